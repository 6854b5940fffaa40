# expect: 3:22: keyword arguments are not allowed
def train(w, g, m, v, lr):
    m = interp(g, m, a=0.9)
    return g, m, v
