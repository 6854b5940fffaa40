# expect: 3:13: unknown op '__import__'
def train(w, g, m, v, lr):
    u = g * __import__("os")
    return u, m, v
