# expect: 3:5: del is not allowed
def train(w, g, m, v, lr):
    del m
    return g, g, v
