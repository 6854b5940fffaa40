"""The best of the third seed of the islands arm over an hour (two islands of 20 with
migration every 1000 children, rung 3 from AdamW, hurdle 0.05, confirm_seeds 4-11; seed 2,
2026-12-07: program 8304, +0.3198 over 12 seeds, reached at 578 s and never passed in the
hour; docs/rediscovery/settings-islands2-hour-vs-experiment.md), simplified
(`lion-search simplify runs/settings-s2/islands2/seed-2:8304`): AdamW's step with its
momentum an EMA of arcsinh(g), a second moment at 0.928, plus a small gradient term
0.052 (arcsinh(g) + g). Not Lion: it joins the panel it is judged against."""


def train(w, g, m, v, lr):
    soft = arcsinh(g)
    m = interp(soft, m, 0.9)
    squared = square(g)
    v = interp(squared, v, 0.9282)
    root = sqrt(v)
    ratio = m / root
    extra = soft + g
    nudge = extra * 0.05202
    total = ratio + nudge
    update = total * lr
    return update, m, v
