# expect: 2:1: at least 3 parameters
def train(w, g):
    return g
