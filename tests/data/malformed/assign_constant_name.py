# expect: 3:5: 'pi' is a named constant and cannot be assigned
def train(w, g, m, v, lr):
    pi = g * 2.0
    return pi, m, v
