# expect: 3:9: operator '**' is not allowed
def train(w, g, m, v, lr):
    u = g ** 2
    return u, m, v
