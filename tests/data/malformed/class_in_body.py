# expect: 3:5: class definitions are not allowed
def train(w, g, m, v, lr):
    class X:
        pass
    return g, m, v
