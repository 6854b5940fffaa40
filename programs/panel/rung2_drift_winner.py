"""The best of ladder rung 2 (configs/ladder/rung2.yaml, seed 0, 2026-12-01, fitness of
issue 11: program 1910, +0.355 on the proxy, +0.116 at meta10), simplified: signum with
its step sign(m) plus a drift 0.01 * interp(-1.206, lr, log|g|) (about -0.012 (1 + |log
|g||): a push of the same sign on every weight, larger where gradients are small) and
the schedule reshaped to sqrt(lr). Not Lion: it joins the panel it is judged against."""


def train(w, g, m, v, lr):
    m = interp(g, m, 0.9)
    logarithm = log(g)
    blend = interp(-1.206, lr, logarithm)
    drift = blend * 0.01
    m2 = m * m
    root = sqrt(m2)
    update = m / root
    update = update + drift
    lr = sqrt(lr)
    update = update * lr
    return update, m, v
