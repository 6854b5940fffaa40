# expect: 3:9: attribute access is not allowed
def train(w, g, m, v, lr):
    u = np.sign(g)
    return u, m, v
