# expect: 3:12: return only variables
def train(w, g, m, v, lr):
    return g * lr, m, v
