"""The best of the fourth seed of the islands arm over an hour (two islands of 20 with
migration every 1000 children, rung 3 from AdamW, hurdle 0.05, confirm_seeds 4-11; seed 3,
2026-12-07: program 99976, +0.3193 over 12 seeds;
docs/rediscovery/settings-islands2-hour-vs-experiment.md), simplified
(`lion-search simplify runs/settings-s2/islands2/seed-3:99976`): AdamW's step clipped from
below, max(-0.833, m / sqrt(v)), with b1 0.699 and b2 0.808: a short-memory normalised
momentum whose downward steps are capped. Not Lion: it joins the panel it is judged
against."""


def train(w, g, m, v, lr):
    m = interp(g, m, 0.6987)
    squared = square(g)
    v = interp(squared, v, 0.8075)
    root = sqrt(v)
    ratio = m / root
    larger = max(-0.8327, ratio)
    update = larger * lr
    return update, m, v
