# expect: 4: state slot 1 must be a tensor, but 'm' is a scalar
def train(w, g, m, v, lr):
    m = lr * 0.5
    return g, m, v
