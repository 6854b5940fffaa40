"""Ladder rung 2: the paper's AdamW with its step ``m / sqrt(v)`` made ``m / sqrt(m * m)``.

That step is ``sign(m)``: signum with AdamW's decay and step size, and ``v`` (an EMA of
the squared gradient) left unread. Two mutations from Lion: make ``v`` an EMA of ``g``
(``v = interp(g, v, 0.999)``, neutral while ``v`` is unread), then read it in the first
EMA (``m = interp(g, v, 0.9)``, the sign of an interpolation of ``g`` and the old ``v``).
"""


def train(w, g, m, v, lr):
    g2 = square(g)
    m = interp(g, m, 0.9)
    v = interp(g2, v, 0.999)
    m2 = m * m
    root = sqrt(m2)
    update = m / root
    wd = w * 0.01
    update = update + wd
    lr = lr * 0.001
    update = update * lr
    return update, m, v
