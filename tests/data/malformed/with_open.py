# expect: 3:5: with-blocks are not allowed
def train(w, g, m, v, lr):
    with open("marker", "w") as f:
        u = sign(g)
    return u, m, v
