# expect: 3:5: assert is not allowed
def train(w, g, m, v, lr):
    assert lr
    return g, m, v
