# expect: 3:5: imports are not allowed
def train(w, g, m, v, lr):
    import os
    return g, m, v
