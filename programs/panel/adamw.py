"""The AdamW warm start: the paper's AdamW program (bias correction omitted), as in
programs/seeds/adamw.py. The reference of the fitness, so it scores 0."""


def train(w, g, m, v, lr):
    g2 = square(g)
    m = interp(g, m, 0.9)
    v = interp(g2, v, 0.999)
    sqrt_v = sqrt(v)
    update = m / sqrt_v
    wd = w * 0.01
    update = update + wd
    lr = lr * 0.001
    update = update * lr
    return update, m, v
