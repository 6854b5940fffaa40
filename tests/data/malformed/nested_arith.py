# expect: 3:9: nested arithmetic is not allowed
def train(w, g, m, v, lr):
    u = g * lr + w
    return u, m, v
