# expect: 3:5: expression statements are not allowed
def train(w, g, m, v, lr):
    exec("import os")
    return g, m, v
