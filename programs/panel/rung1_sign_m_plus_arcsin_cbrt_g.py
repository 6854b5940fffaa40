"""The best of ladder rung 1 with selection on held-out seeds (configs/ladder/rung1.yaml,
4 training seeds, hurdle 0.05, confirm_seeds 4-11; seed 0, 2026-12-02: program 2296,
+0.3271 over 12 seeds; docs/rediscovery/rung1-s4-hurdle-confirm8-summary.md), simplified:
sign(m) + arcsin(cbrt(g)), m an EMA at 0.9. arcsin clips its argument, so the second
term is (pi / 2) sign(g) wherever |g| >= 1: the cautious mask again, softened near 0.
Not Lion: it joins the panel it is judged against."""


def train(w, g, m, v, lr):
    m = interp(g, m, 0.9)
    direction = sign(m)
    root = cbrt(g)
    push = arcsin(root)
    update = direction + push
    return update, m, v
