"""The best of ladder rung 1 with 4 training seeds, hurdle 0.05 and hurdle_probes [1, 4]
(configs/ladder/rung1.yaml, seed 0, 2026-12-02: program 15081, +0.3878 on the search's
4 seeds; docs/rediscovery/rung1-s4-hurdle-probes14-summary.md), as simplified there:
the sign of an arcsinh'd EMA at 0.92 plus the sign of the raw gradient,
sign(m) + sign(g), with m = arcsinh(interp(g, m, 0.9227)) (arcsinh keeps the sign).
Not Lion: it joins the panel it is judged against."""


def train(w, g, m, v, lr):
    blend = interp(g, m, 0.9227)
    m = arcsinh(blend)
    direction = sign(m)
    direction_2 = sign(g)
    update = direction + direction_2
    return update, m, v
