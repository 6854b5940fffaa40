"""Adam without weight decay (bias correction omitted, like the AdamW warm start)."""


def train(w, g, m, v, lr):
    g2 = square(g)
    m = interp(g, m, 0.9)
    v = interp(g2, v, 0.999)
    sqrt_v = sqrt(v)
    update = m / sqrt_v
    lr = lr * 0.001
    update = update * lr
    return update, m, v
