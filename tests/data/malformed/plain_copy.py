# expect: 3:9: a statement applies one op
def train(w, g, m, v, lr):
    u = g
    return u, m, v
