# expect: 2:1: the program must end with `return update, <state>, <state>`
def train(w, g, m, v, lr):
    u = sign(g)
