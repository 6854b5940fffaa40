"""The best of the first seed of the rediscovery experiment from AdamW (ladder rung 3:
configs/ladder/rung3.yaml with 4 training seeds, hurdle 0.05, confirm_seeds 4-11; seed 0,
2026-12-02: program 47320, +0.3797 over 12 seeds after 3,600 s and 10,510 evaluations;
docs/rediscovery/rung3-s4-hurdle-confirm8-summary.md), simplified: AdamW's step with a
fast second moment (an EMA at 0.456, so m / sqrt(v) is nearly a sign of the momentum)
plus arcsin(cbrt(g)), a sign of the gradient softened near 0: the cautious family
again, reached from AdamW. Not Lion: it joins the panel it is judged against."""


def train(w, g, m, v, lr):
    m = interp(g, m, 0.9)
    squared = square(g)
    v = interp(squared, v, 0.4564)
    scaled = v * 0.1022
    root = sqrt(scaled)
    ratio = m / root
    root_g = cbrt(g)
    soft_sign = arcsin(root_g)
    update = ratio + soft_sign
    return update, m, v
