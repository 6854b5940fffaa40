# expect: 3:5: indexing is not allowed
def train(w, g, m, v, lr):
    m[0] = g
    return g, m, v
