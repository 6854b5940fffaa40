"""signum at 0.92 with the sign of the raw gradient added, sign(m) + sign(g): the rung-1
winner (rung1_sign_m_plus_sign_g.py) without its arcsinh on the state, to tell whether the
arcsinh or the cautious mask carries its lead over Lion (2026-12-02). Not Lion: it joins
the panel it is judged against."""


def train(w, g, m, v, lr):
    m = interp(g, m, 0.92)
    direction = sign(m)
    agree = sign(g)
    update = direction + agree
    return update, m, v
