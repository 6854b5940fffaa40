"""SGD with (heavy-ball) momentum 0.9."""


def train(w, g, m, v, lr):
    m = m * 0.9
    m = m + g
    lr = lr * 0.01
    update = m * lr
    return update, m, v
