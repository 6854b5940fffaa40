# expect: 2:1: imports are not allowed
import numpy


def train(w, g, m, v, lr):
    return g, m, v
