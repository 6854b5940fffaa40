"""Signum at 0.9: one EMA for both the update and the momentum (the paper's ablation of
Lion, b1 = b2 = 0.9), as in programs/seeds/signum.py with AdamW's weight decay ratio."""


def train(w, g, m, v, lr):
    m = interp(g, m, 0.9)
    update = sign(m)
    wd = w * 0.01
    update = update + wd
    lr = lr * 0.001
    update = update * lr
    return update, m, v
