"""The best of ladder rung 1 with 4 training seeds and hurdle 0.05 (configs/ladder/
rung1.yaml, seed 1, 2026-12-01: program 6477, +0.3617 on the search's 4 seeds;
docs/rediscovery/rung1-s4-hurdle-summary.md), simplified: signum at 0.78 with its
momentum passed through sin, update = sign(interp(g, m, 0.7794)), m = sin(that blend)
(sin keeps the sign of a small EMA). Its constant step multiplier, a chain of lr
(sinh(sinh(exp2(lr)))), is dropped: the schedule is applied outside the program and the
fitness tunes the multiplier. Not Lion: it joins the panel it is judged against."""


def train(w, g, m, v, lr):
    blend = interp(g, m, 0.7794)
    update = sign(blend)
    m = sin(blend)
    return update, m, v
