"""The best of seed 2 of the same experiment as rung1_sign_m_plus_arcsin_cbrt_g.py
(program 14692, +0.3220 over 12 seeds): sign(m) + tanh(g), m an EMA at 0.8307; tanh(g)
is sign(g) for large gradients. Not Lion: it joins the panel it is judged against."""


def train(w, g, m, v, lr):
    m = interp(g, m, 0.8307)
    direction = sign(m)
    push = tanh(g)
    update = direction + push
    return update, m, v
