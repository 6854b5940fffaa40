"""Lion without the schedule: lion.py with the learning-rate schedule value unused (a
constant step), the shape of the hacks the searches found."""


def train(w, g, m, v, lr):
    c = interp(g, m, 0.9)
    update = sign(c)
    wd = w * 0.1
    update = update + wd
    update = update * 0.0001
    m = interp(g, m, 0.99)
    return update, m, v
