"""RMSprop: the gradient scaled by the root of an EMA of its square."""


def train(w, g, m, v, lr):
    g2 = square(g)
    v = interp(g2, v, 0.99)
    sqrt_v = sqrt(v)
    update = g / sqrt_v
    lr = lr * 0.001
    update = update * lr
    return update, m, v
