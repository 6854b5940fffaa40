# expect: 3:5: try/except is not allowed
def train(w, g, m, v, lr):
    try:
        u = sign(g)
    except Exception:
        u = g
    return u, m, v
