"""Lion (Chen et al., 2023), b1 0.9, b2 0.99, as in programs/seeds/lion.py: the sign of
an interpolation of the gradient and a slow EMA, decoupled weight decay."""


def train(w, g, m, v, lr):
    c = interp(g, m, 0.9)
    update = sign(c)
    wd = w * 0.1
    update = update + wd
    lr = lr * 0.0001
    update = update * lr
    m = interp(g, m, 0.99)
    return update, m, v
