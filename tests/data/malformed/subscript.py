# expect: 3:13: indexing is not allowed
def train(w, g, m, v, lr):
    u = g * w[0]
    return u, m, v
