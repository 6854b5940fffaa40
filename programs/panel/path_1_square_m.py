"""Path from AdamW to Lion, step 1: insert t = square(m) into the warm start (dead code,
neutral)."""


def train(w, g, m, v, lr):
    g2 = square(g)
    m = interp(g, m, 0.9)
    t = square(m)
    v = interp(g2, v, 0.999)
    sqrt_v = sqrt(v)
    update = m / sqrt_v
    wd = w * 0.01
    update = update + wd
    lr = lr * 0.001
    update = update * lr
    return update, m, v
