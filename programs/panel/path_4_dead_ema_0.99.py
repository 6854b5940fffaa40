"""Path from AdamW to Lion, step 4: the dead EMA's rate 0.999 becomes 0.99 (neutral)."""


def train(w, g, m, v, lr):
    g2 = square(g)
    m = interp(g, m, 0.9)
    t = square(m)
    v = interp(g, v, 0.99)
    sqrt_v = sqrt(t)
    update = m / sqrt_v
    wd = w * 0.01
    update = update + wd
    lr = lr * 0.001
    update = update * lr
    return update, m, v
