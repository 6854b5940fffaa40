# expect: 3:13: f-strings are not allowed
def train(w, g, m, v, lr):
    u = g * f"{lr}"
    return u, m, v
