# expect: 3:15: syntax error
def train(w, g, m, v, lr):
    m = interp(g, m
    return g, m, v
