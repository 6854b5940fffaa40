"""funcsim: what must share a fingerprint, and what must not."""

import itertools

import pytest

from programs.funcsim import behaviour, fingerprint, similarity
from programs.seed_programs import SEED_NAMES, load_seed, seed_path
from tests.conftest import program

LION = load_seed("lion")
LION_PLAIN = program("""
    def train(w, g, m, v, lr):
        c = interp(g, m, 0.9)
        update = sign(c)
        lr = lr * 0.0001
        update = update * lr
        m = interp(g, m, 0.99)
        return update, m, v
""")


def same(a, b):
    return fingerprint(a) == fingerprint(b) and similarity(a, b) == 1.0


def test_addition_order():
    assert same(program("def train(w, g, m, v, lr):\n    u = g + w\n    return u, m, v"),
                program("def train(w, g, m, v, lr):\n    u = w + g\n    return u, m, v"))


def test_sign_as_a_quotient():
    quotient = program("""
        def train(w, g, m, v, lr):
            m = interp(g, m, 0.9)
            m2 = m * m
            r = sqrt(m2)
            u = m / r
            return u, m, v
    """)
    sign = program("""
        def train(w, g, m, v, lr):
            m = interp(g, m, 0.9)
            u = sign(m)
            return u, m, v
    """)
    assert same(quotient, sign)


def test_interp_and_its_linear_combination():
    a = program("def train(w, g, m, v, lr):\n    u = interp(g, m, 0.9)\n    m = u * 1.0\n"
                "    return u, m, v")
    b = program("""
        def train(w, g, m, v, lr):
            x = g * 0.1
            y = m * 0.9
            u = x + y
            m = u * 1.0
            return u, m, v
    """)
    assert same(a, b)


def test_lion_renamed_moved_and_with_dead_code():
    renamed = program("""
        def train(p, grad, mom, other, rate):
            c = interp(grad, mom, 0.9)
            step = sign(c)
            decay = p * 0.1
            step = step + decay
            rate = rate * 0.0001
            step = step * rate
            mom = interp(grad, mom, 0.99)
            return step, mom, other
    """)
    other_slot = program("""
        def train(w, g, m, v, lr):
            c = interp(g, v, 0.9)
            update = sign(c)
            wd = w * 0.1
            update = update + wd
            lr = lr * 0.0001
            update = update * lr
            v = interp(g, v, 0.99)
            return update, m, v
    """)
    dead_code = program("""
        def train(w, g, m, v, lr):
            junk = exp(g)
            c = interp(g, m, 0.9)
            v = cosh(junk)
            update = sign(c)
            wd = w * 0.1
            unused = norm(wd)
            update = update + wd
            lr = lr * 0.0001
            update = update * lr
            m = interp(g, m, 0.99)
            return update, m, v
    """)
    for variant in (renamed, other_slot, dead_code):
        assert same(LION, variant)


def test_lion_is_not_signum():
    assert not same(LION, load_seed("signum"))
    assert not same(LION_PLAIN, load_seed("signum"))  # same lr, no weight decay: still not
    assert similarity(LION_PLAIN, load_seed("signum")) < 0.99


def test_lion_b1_is_seen():
    b1_95 = program(open(seed_path("lion")).read().replace(
        "interp(g, m, 0.9)", "interp(g, m, 0.95)"))
    assert not same(LION, b1_95)
    assert 0.5 < similarity(LION, b1_95) < 1.0  # close, but different


def test_adamw_is_not_adam():
    assert not same(load_seed("adamw"), load_seed("adam"))


@pytest.mark.parametrize("a,b", list(itertools.combinations(SEED_NAMES, 2)))
def test_seed_programs_are_all_different(a, b):
    assert fingerprint(load_seed(a)) != fingerprint(load_seed(b))
    assert similarity(load_seed(a), load_seed(b)) < 1.0


def test_a_blow_up_gets_a_fingerprint():
    boom = program("""
        def train(w, g, m, v, lr):
            a = exp(g)
            b = exp(a)
            c = exp(b)
            d = c - c
            m = m + d
            return d, m, v
    """)
    assert fingerprint(boom) == fingerprint(boom)
    assert len(fingerprint(boom)) == 32
    assert 0.0 <= similarity(boom, LION) <= 1.0
    inf = program("def train(w, g, m, v, lr):\n    a = exp(g)\n    b = exp(a)\n"
                  "    c = exp(b)\n    return c, m, v")
    assert fingerprint(inf) != fingerprint(boom)  # +inf and nan behave differently


def test_similarity_is_symmetric_and_bounded():
    a, b = load_seed("adam"), load_seed("adamw")
    assert similarity(a, b) == similarity(b, a)
    assert 0.0 <= similarity(a, b) < 1.0
    assert behaviour(a).shape == behaviour(b).shape
