"""The best of ladder rung 1 under suite v4 (configs/ladder/rung1.yaml, seed 0,
2026-12-01: program 209, +0.265 on the search's 2 seeds), simplified: signum plus a
little raw gradient, sign(m) + 0.0297 g. On 8 seeds (per-tensor gradient scales) it
trails Lion by 0.030 +- 0.040 (4 of 8): a tie within the noise, where the search's
seeds 0 and 1 favour it. Not Lion: it joins the panel it is judged against."""


def train(w, g, m, v, lr):
    push = g * 0.02971
    m = interp(g, m, 0.9)
    direction = sign(m)
    update = push + direction
    return update, m, v
