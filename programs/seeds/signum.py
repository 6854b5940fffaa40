"""signum: the sign of one EMA of the gradient (the paper's ablation; not Lion).

The same EMA is used for the update and as the stored momentum, where Lion uses two rates.
"""


def train(w, g, m, v, lr):
    m = interp(g, m, 0.9)
    update = sign(m)
    lr = lr * 0.0001
    update = update * lr
    return update, m, v
