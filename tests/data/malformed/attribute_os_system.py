# expect: 3:19: attribute access is not allowed
def train(w, g, m, v, lr):
    u = sign(g) + os.system("touch marker")
    return u, m, v
