# expect: 2:26: parameters cannot have default values
def train(w, g, m, v, lr=1.0):
    return g, m, v
