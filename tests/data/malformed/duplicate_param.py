# expect: 2:20: parameter 'g' appears twice
def train(w, g, m, g, lr):
    return g, m, m
