# expect: 3:18: indexing is not allowed
def train(w, g, m, v, lr):
    u = sign(g * w[0])
    return u, m, v
