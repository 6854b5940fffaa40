"""Lion (0.9 / 0.99) with the quickstart winner's multiplier clip(exp(-0.802), cbrt(w)),
schedule kept: the Lion core with an extra (issue 11's probes: the best of that panel
with the lr tuned per task)."""


def train(w, g, m, v, lr):
    c = interp(g, m, 0.9)
    update = sign(c)
    wd = w * 0.1
    update = update + wd
    scale = exp(-0.802)
    root = cbrt(w)
    shrink = clip(scale, root)
    update = update * shrink
    lr = lr * 0.0001
    update = update * lr
    m = interp(g, m, 0.99)
    return update, m, v
