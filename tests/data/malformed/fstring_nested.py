# expect: 3:18: f-strings are not allowed
def train(w, g, m, v, lr):
    u = sign(g + f"{__import__('os').system('touch marker')}")
    return u, m, v
