# expect: 3:14: lambdas are not allowed
def train(w, g, m, v, lr):
    u = g * (lambda: 1)
    return u, m, v
