# expect: 3:24: operator '**' is not allowed
def train(w, g, m, v, lr):
    u = sign(g * (lr + w ** 2))
    return u, m, v
