"""Plain stochastic gradient descent."""


def train(w, g, m, v, lr):
    lr = lr * 0.01
    update = g * lr
    return update, m, v
