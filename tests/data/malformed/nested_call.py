# expect: 3:14: nested calls are not allowed
def train(w, g, m, v, lr):
    u = sign(abs(g))
    return u, m, v
