"""Lion with the sign of the raw gradient added, sign(c) + sign(g): it steps only where
Lion's direction and the gradient agree (a "cautious" mask, as in Liang et al., 2024,
"Cautious Optimizers"). Written to test, beside the rung-1 winner sign(m) + sign(g), whether the
mask or the missing Lion core is what beats Lion (2026-12-02). Not Lion-family by the
recogniser's rule (the gradient reaches the update outside the core)."""


def train(w, g, m, v, lr):
    c = interp(g, m, 0.9)
    direction = sign(c)
    agree = sign(g)
    update = direction + agree
    m = interp(g, m, 0.99)
    return update, m, v
