# expect: 3:24: unknown op 'softmax'
def train(w, g, m, v, lr):
    u = sign(interp(g, softmax(m), 0.9)) + w
    return u, m, v
