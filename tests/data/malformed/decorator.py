# expect: 2:2: decorators are not allowed
@jit
def train(w, g, m, v, lr):
    return g, m, v
