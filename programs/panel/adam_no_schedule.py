"""Adam without the schedule: the AdamW warm start with the schedule value unused (a
constant step); the quickstart searches climbed to this first (issue 11's probes)."""


def train(w, g, m, v, lr):
    g2 = square(g)
    m = interp(g, m, 0.9)
    v = interp(g2, v, 0.999)
    sqrt_v = sqrt(v)
    update = m / sqrt_v
    wd = w * 0.01
    update = update + wd
    update = update * 0.001
    return update, m, v
