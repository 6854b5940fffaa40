"""Lion (Chen et al., 2023): the sign of an interpolation, momentum tracked with b2.

lr 10x below AdamW's and weight decay 10x above, so that lr * wd matches the warm start.
"""


def train(w, g, m, v, lr):
    c = interp(g, m, 0.9)
    update = sign(c)
    wd = w * 0.1
    update = update + wd
    lr = lr * 0.0001
    update = update * lr
    m = interp(g, m, 0.99)
    return update, m, v
