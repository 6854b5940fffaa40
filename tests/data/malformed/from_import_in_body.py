# expect: 3:5: imports are not allowed
def train(w, g, m, v, lr):
    from os import system
    return g, m, v
