"""The best of seed 1 of the same experiment as rung1_sign_m_plus_arcsin_cbrt_g.py
(program 8656, +0.2721 over 12 seeds): signum at 0.7756 minus 0.207 times the sign of
the previous step's momentum, sign(m') - 0.207 sign(m). Not Lion: it joins the panel
it is judged against."""


def train(w, g, m, v, lr):
    stale = sign(m)
    m = interp(g, m, 0.7756)
    direction = sign(m)
    brake = stale * 0.2074
    update = direction - brake
    return update, m, v
