# expect: 2:1: imports are not allowed
from os import system


def train(w, g, m, v, lr):
    return g, m, v
