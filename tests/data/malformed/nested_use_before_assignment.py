# expect: 3:23: 'x' is used before it is assigned
def train(w, g, m, v, lr):
    u = sign(g * (m + x))
    x = sign(g)
    return u, m, v
