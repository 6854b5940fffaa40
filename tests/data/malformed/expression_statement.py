# expect: 3:5: expression statements are not allowed
def train(w, g, m, v, lr):
    sign(g)
    return g, m, v
