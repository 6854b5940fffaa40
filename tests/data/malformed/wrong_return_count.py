# expect: 4:5: return gives 2 value(s); expected 3
def train(w, g, m, v, lr):
    u = sign(g)
    return u, m
