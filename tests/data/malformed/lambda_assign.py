# expect: 3:9: lambdas are not allowed
def train(w, g, m, v, lr):
    f = lambda x: x
    return g, m, v
