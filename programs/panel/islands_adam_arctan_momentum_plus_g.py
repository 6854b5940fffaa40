"""The best of the fifth seed of the islands arm over an hour (two islands of 20 with
migration every 1000 children, rung 3 from AdamW, hurdle 0.05, confirm_seeds 4-11; seed 4,
2026-12-07: program 101530, +0.3658 over 12 seeds;
docs/rediscovery/settings-islands2-hour-vs-experiment.md), simplified
(`lion-search simplify runs/settings-s2/islands2/seed-4:101530`): AdamW's step with a
short-memory second moment (0.844) plus 0.050 g, its momentum squashed by arctan before
each update (an EMA at 0.843 of g and arctan(m)). Not Lion: it joins the panel it is
judged against."""


def train(w, g, m, v, lr):
    squashed = arctan(m)
    m = interp(g, squashed, 0.8434)
    squared = square(g)
    v = interp(squared, v, 0.8437)
    root = sqrt(v)
    ratio = m / root
    nudge = g * 0.05035
    total = ratio + nudge
    update = total * lr
    return update, m, v
