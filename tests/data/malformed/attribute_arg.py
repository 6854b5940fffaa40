# expect: 3:14: attribute access is not allowed
def train(w, g, m, v, lr):
    u = sign(g.real)
    return u, m, v
