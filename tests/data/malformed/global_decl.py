# expect: 3:5: global declarations are not allowed
def train(w, g, m, v, lr):
    global x
    return g, m, v
