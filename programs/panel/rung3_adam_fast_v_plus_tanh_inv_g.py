"""The best of the second seed of the rediscovery experiment from AdamW (ladder rung 3:
configs/ladder/rung3.yaml with 4 training seeds, hurdle 0.05, confirm_seeds 4-11; seed 1,
2026-12-02: program 10218, +0.3582 over 12 seeds, the best of 3,600 s and 9,188
evaluations; docs/rediscovery/rung3-s4-hurdle-confirm8-summary.md), simplified: AdamW's
step with a very fast second moment (an EMA of g ** 2 at 0.0896, so m / sqrt(v) is nearly
a sign of the momentum) plus tanh(1 / g), which is sign(g) where the gradient is small.
The cautious family a third way. Not Lion: it joins the panel it is judged against."""


def train(w, g, m, v, lr):
    m = interp(g, m, 0.8584)
    squared = square(g)
    v = interp(squared, v, 0.08957)
    root = sqrt(v)
    ratio = m / root
    inverse = reciprocal(g)
    soft_sign = tanh(inverse)
    total = ratio + soft_sign
    update = total * lr
    return update, m, v
