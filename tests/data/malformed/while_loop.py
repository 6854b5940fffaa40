# expect: 3:5: loops are not allowed
def train(w, g, m, v, lr):
    while lr:
        m = m + g
    return g, m, v
