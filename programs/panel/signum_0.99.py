"""Signum at 0.99: the sign of a slow EMA of the gradient (b1 = b2 = 0.99), the other
degenerate Lion."""


def train(w, g, m, v, lr):
    m = interp(g, m, 0.99)
    update = sign(m)
    wd = w * 0.01
    update = update + wd
    lr = lr * 0.001
    update = update * lr
    return update, m, v
