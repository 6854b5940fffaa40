# expect: 3:5: loops are not allowed
def train(w, g, m, v, lr):
    for i in range(3):
        m = m + g
    return g, m, v
