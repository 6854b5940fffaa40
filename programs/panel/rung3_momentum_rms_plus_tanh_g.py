"""The best of the fourth seed of the rediscovery experiment from AdamW (ladder rung 3:
configs/ladder/rung3.yaml with 4 training seeds, hurdle 0.05, confirm_seeds 4-11; seed 3,
2026-12-06: program 29538, +0.3336 over 12 seeds after 23 minutes, the best of its hour;
docs/rediscovery/rung3-s4-hurdle-confirm8-summary.md), simplified: the search overwrote
AdamW's second moment with the square of the previous momentum, so one state is left, as
in Lion. The step is the momentum over sqrt(0.973 m_prev ** 2 + 0.027 g ** 2), nearly
sign(m) (rung 2's m / sqrt(m * m), softened by the gradient), plus tanh(g): the cautious
family a fifth way. Not Lion: it joins the panel it is judged against."""


def train(w, g, m, v, lr):
    previous = square(m)
    m = interp(g, m, 0.8462)
    squared = square(g)
    scale = interp(squared, previous, 0.973)
    root = sqrt(scale)
    ratio = m / root
    soft_sign = tanh(g)
    total = ratio + soft_sign
    update = total * lr
    return update, m, v
