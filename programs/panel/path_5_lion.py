"""Path from AdamW to Lion, step 5: m = interp(g, v, 0.9) reads the slow EMA, so the
step is sign(interp(g, v, 0.9)) with v tracked at 0.99: Lion 0.9 / 0.99 (with AdamW's
weight decay ratio; the m slot is now dead)."""


def train(w, g, m, v, lr):
    g2 = square(g)
    m = interp(g, v, 0.9)
    t = square(m)
    v = interp(g, v, 0.99)
    sqrt_v = sqrt(t)
    update = m / sqrt_v
    wd = w * 0.01
    update = update + wd
    lr = lr * 0.001
    update = update * lr
    return update, m, v
