# expect: 3:13: constant inf is not finite
def train(w, g, m, v, lr):
    u = g * 1e999
    return u, m, v
