# expect: 4:5: code after return
def train(w, g, m, v, lr):
    return g, m, v
    u = sign(g)
