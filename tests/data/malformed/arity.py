# expect: 3:9: 'interp' takes 3 argument(s), got 2
def train(w, g, m, v, lr):
    m = interp(g, m)
    return g, m, v
