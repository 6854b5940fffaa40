"""Ladder rung 1: signum with an unused slow EMA of the gradient in the second slot.

One mutation from Lion: reading the slow EMA ``v`` instead of ``m`` in the first
statement (``m = interp(g, v, 0.9)``) makes the update the sign of an interpolation of
the gradient and ``v``, which is tracked at 0.99: Lion, with ``m`` left dead.
"""


def train(w, g, m, v, lr):
    m = interp(g, m, 0.9)
    update = sign(m)
    wd = w * 0.1
    update = update + wd
    lr = lr * 0.0001
    update = update * lr
    v = interp(g, v, 0.99)
    return update, m, v
