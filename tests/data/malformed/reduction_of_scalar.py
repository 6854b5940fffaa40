# expect: 3:5: 'norm' needs a tensor as argument 1, got the scalar 'lr'
def train(w, g, m, v, lr):
    n = norm(lr)
    return g, m, v
