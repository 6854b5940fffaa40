"""Path from AdamW to Lion, step 2: read sqrt(t) instead of sqrt(v), so the step is
m / |m| = sign(m): signum at 0.9; v is now dead."""


def train(w, g, m, v, lr):
    g2 = square(g)
    m = interp(g, m, 0.9)
    t = square(m)
    v = interp(g2, v, 0.999)
    sqrt_v = sqrt(t)
    update = m / sqrt_v
    wd = w * 0.01
    update = update + wd
    lr = lr * 0.001
    update = update * lr
    return update, m, v
