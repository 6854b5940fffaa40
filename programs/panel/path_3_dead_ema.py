"""Path from AdamW to Lion, step 3: v = interp(g, v, 0.999), an EMA of the gradient
that nothing reads yet (dead, neutral)."""


def train(w, g, m, v, lr):
    g2 = square(g)
    m = interp(g, m, 0.9)
    t = square(m)
    v = interp(g, v, 0.999)
    sqrt_v = sqrt(t)
    update = m / sqrt_v
    wd = w * 0.01
    update = update + wd
    lr = lr * 0.001
    update = update * lr
    return update, m, v
