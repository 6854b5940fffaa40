# expect: 3:5: branches are not allowed
def train(w, g, m, v, lr):
    if lr:
        m = m + g
    return g, m, v
