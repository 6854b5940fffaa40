# expect: 3:13: only numbers are allowed as constants, not str
def train(w, g, m, v, lr):
    u = g * "a"
    return u, m, v
