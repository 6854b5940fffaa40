# expect: 3:18: operator '~' is not allowed
def train(w, g, m, v, lr):
    u = g * sign(~m)
    return u, m, v
