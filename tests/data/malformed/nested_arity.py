# expect: 3:23: 'clip' takes 2 argument(s), got 1
def train(w, g, m, v, lr):
    u = g * lr + sign(clip(w)) * 2
    return u, m, v
