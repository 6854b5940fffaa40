# expect: 6:1: a program file holds exactly one function
def train(w, g, m, v, lr):
    return g, m, v


def other(w, g, lr):
    return g
