"""The best of the fifth seed of the rediscovery experiment from AdamW (ladder rung 3:
configs/ladder/rung3.yaml with 4 training seeds, hurdle 0.05, confirm_seeds 4-11; seed 4,
2026-12-06: program 46337, +0.3143 over 12 seeds after 44 minutes, the best of its hour;
docs/rediscovery/rung3-s4-hurdle-confirm8-summary.md), simplified: AdamW's step with a
very fast second moment (an EMA of g ** 2 at 0.077, so m / sqrt(v) is nearly a sign of
the momentum), a momentum of arcsin(g) rather than g, plus cbrt(g), a sign of the
gradient softened near 0. The cautious family a sixth way. Not Lion: it joins the panel
it is judged against."""


def train(w, g, m, v, lr):
    soft_g = arcsin(g)
    m = interp(soft_g, m, 0.9)
    squared = square(g)
    v = interp(squared, v, 0.07693)
    root = sqrt(v)
    ratio = m / root
    root_g = cbrt(g)
    update = ratio + root_g
    return update, m, v
