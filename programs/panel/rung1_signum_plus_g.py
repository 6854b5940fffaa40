"""The best of ladder rung 1 under suite v3 (configs/ladder/rung1.yaml, seed 0,
2026-12-01: program 73, +0.279 on 2 seeds), simplified: signum plus the raw gradient,
sign(m) + 2.08 g (its v = interp(g, 2.097, 0.99) is a constant 2.076 plus 0.01 g). On 6
seeds of suite v3 it led Lion by 0.046; it is not invariant to the gradient's scale.
Not Lion: it joins the panel it is judged against."""


def train(w, g, m, v, lr):
    m = interp(g, m, 0.9)
    update = sign(m)
    push = g * 2.08
    update = update + push
    lr = lr * 0.0001
    update = update * lr
    return update, m, v
