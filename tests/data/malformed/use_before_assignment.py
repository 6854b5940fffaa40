# expect: 3:13: 'x' is used before it is assigned
def train(w, g, m, v, lr):
    u = g * x
    x = sign(g)
    return u, m, v
