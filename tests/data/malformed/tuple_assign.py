# expect: 3:5: assign exactly one variable per statement
def train(w, g, m, v, lr):
    a, b = g, m
    return a, b, v
