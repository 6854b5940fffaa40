# expect: 3:9: unknown op 'exec'
def train(w, g, m, v, lr):
    u = exec("import os")
    return u, m, v
