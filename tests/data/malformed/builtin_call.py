# expect: 3:9: unknown op 'eval'
def train(w, g, m, v, lr):
    u = eval(g)
    return u, m, v
