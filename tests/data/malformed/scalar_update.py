# expect: 4: the update must be a tensor, but 'n' is a scalar
def train(w, g, m, v, lr):
    n = norm(g)
    return n, m, v
