"""The Lion-family recogniser: Lion written many ways is Lion; nothing else is."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from programs.funcsim import fingerprint
from programs.generate import random_program
from programs.lion_core import is_lion_family
from programs.recognize import (LionMatch, SAME_RATE, canonical_lion,
                                recognize_lion)
from programs.seed_programs import SEED_NAMES, load_seed
from tests.conftest import program
from tests.test_simplify import CASES


def constants(match: LionMatch):
    return match.b1, match.b2, match.weight_decay, match.lr_scale


def test_the_lion_seed():
    match = recognize_lion(load_seed("lion"))
    assert match == LionMatch(b1=0.9, b2=0.99, weight_decay=0.1, lr_scale=1e-4)
    assert fingerprint(match.program()) == fingerprint(load_seed("lion"))
    assert match.as_dict() == {"b1": 0.9, "b2": 0.99, "weight_decay": 0.1, "lr_scale": 1e-4}


@pytest.mark.parametrize("name", [n for n in SEED_NAMES if n != "lion"])
def test_no_other_seed_is_lion(name):
    assert recognize_lion(load_seed(name)) is None
    assert not is_lion_family(load_seed(name))


@pytest.mark.parametrize("text, expected", CASES)
def test_evolved_lion_is_recognised_with_its_constants(text, expected):
    match = recognize_lion(program(text))
    assert match is not None
    assert constants(match) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert fingerprint(match.program()) == fingerprint(program(text))


VARIANTS = {
    "state renamed, in the other slot, update reads the old value late": ("""
        def train(w, g, junk, mom, lr):
            mom2 = interp(g, mom, 0.98)
            c = interp(g, mom, 0.95)
            s = sign(c)
            d = w * 0.2
            s = s + d
            k = lr * 0.0003
            u = s * k
            return u, junk, mom2
    """, (0.95, 0.98, 0.2, 3e-4)),
    "sign of a negated argument, negative scale": ("""
        def train(w, g, m, v, lr):
            c = interp(g, m, 0.9)
            c = negative(c)
            s = sign(c)
            s = s * lr
            u = s * -0.001
            m = interp(g, m, 0.99)
            return u, m, v
    """, (0.9, 0.99, 0.0, 1e-3)),
    "interp written with the momentum first and a quotient sign": ("""
        def train(w, g, m, v, lr):
            c = interp(m, g, 0.2)
            a = abs(c)
            s = c / a
            u = s * lr
            m = interp(g, m, 0.999)
            return u, m, v
    """, (0.8, 0.999, 0.0, 1.0)),
    "lr applied twice, separately to the sign and to the decay": ("""
        def train(w, g, m, v, lr):
            c = interp(g, m, 0.9)
            s = sign(c)
            s = s * lr
            s = s * 0.0001
            d = w * lr
            d = d * 0.00001
            u = s + d
            m = interp(g, m, 0.99)
            return u, m, v
    """, (0.9, 0.99, 0.1, 1e-4)),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_lion_written_other_ways(name):
    text, expected = VARIANTS[name]
    match = recognize_lion(program(text))
    assert match is not None, name
    assert constants(match) == pytest.approx(expected, rel=1e-9, abs=1e-12)


NOT_LION = {
    "signum written as Lion with b1 == b2": """
        def train(w, g, m, v, lr):
            c = interp(g, m, 0.9)
            s = sign(c)
            u = s * lr
            m = interp(g, m, 0.9)
            return u, m, v
    """,
    "b1 = 0 is signSGD": """
        def train(w, g, m, v, lr):
            c = interp(g, m, 0.0)
            s = sign(c)
            u = s * lr
            m = interp(g, m, 0.99)
            return u, m, v
    """,
    "b1 = 1: the sign of last step's momentum": """
        def train(w, g, m, v, lr):
            s = sign(m)
            u = s * lr
            m = interp(g, m, 0.99)
            return u, m, v
    """,
    "ascent: negative lr scale": """
        def train(w, g, m, v, lr):
            c = interp(g, m, 0.9)
            s = sign(c)
            u = s * lr
            u = u * -0.001
            m = interp(g, m, 0.99)
            return u, m, v
    """,
    "weight decay not scaled by the schedule": """
        def train(w, g, m, v, lr):
            c = interp(g, m, 0.9)
            s = sign(c)
            s = s * lr
            d = w * 0.01
            u = s + d
            m = interp(g, m, 0.99)
            return u, m, v
    """,
    "a gradient term beside the sign": """
        def train(w, g, m, v, lr):
            c = interp(g, m, 0.9)
            s = sign(c)
            s = s + g
            u = s * lr
            m = interp(g, m, 0.99)
            return u, m, v
    """,
    "momentum is not an EMA (rate 1)": """
        def train(w, g, m, v, lr):
            c = interp(g, m, 0.9)
            s = sign(c)
            u = s * lr
            m = m + g
            return u, m, v
    """,
    "two different EMAs in the sign": """
        def train(w, g, m, v, lr):
            c = m + v
            c = interp(g, c, 0.9)
            s = sign(c)
            u = s * lr
            m = interp(g, m, 0.99)
            v = interp(g, v, 0.9)
            return u, m, v
    """,
    "sign of the squared-gradient EMA": """
        def train(w, g, m, v, lr):
            g2 = square(g)
            c = interp(g2, v, 0.9)
            s = sign(c)
            u = s * lr
            v = interp(g2, v, 0.99)
            return u, m, v
    """,
    "negative weight decay": """
        def train(w, g, m, v, lr):
            c = interp(g, m, 0.9)
            s = sign(c)
            d = w * -0.1
            s = s + d
            u = s * lr
            m = interp(g, m, 0.99)
            return u, m, v
    """,
}


@pytest.mark.parametrize("name", sorted(NOT_LION))
def test_not_lion(name):
    assert recognize_lion(program(NOT_LION[name])) is None, name


def test_b1_equal_to_b2_within_tolerance_is_signum():
    assert recognize_lion(canonical_lion(0.9, 0.9 * (1 + SAME_RATE / 2), 0.1, 1e-4)) is None
    assert recognize_lion(canonical_lion(0.9, 0.9 * (1 + 100 * SAME_RATE), 0.1, 1e-4))


def test_invalid_program_is_not_lion():
    from programs.program import Program, Statement, Var
    bad = Program(("w", "g", "lr"), (Statement("u", "norm", (Var("lr"),)),), ("u",))
    assert recognize_lion(bad) is None


def test_is_lion_family_is_cached():
    lion = load_seed("lion")
    is_lion_family.cache_clear()
    assert is_lion_family(lion) and is_lion_family(lion)
    assert is_lion_family.cache_info().hits == 1


SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.floats(0.02, 0.98), st.floats(0.02, 0.999), st.floats(0.0, 2.0),
       st.floats(1e-6, 1e-1))
def test_canonical_lion_round_trips(b1, b2, weight_decay, lr_scale):
    rounded = [float(f"{x:.6g}") for x in (b1, b2, weight_decay, lr_scale)]
    b1, b2, weight_decay, lr_scale = rounded
    match = recognize_lion(canonical_lion(b1, b2, weight_decay, lr_scale))
    if abs(b1 - b2) <= SAME_RATE * max(b1, b2):
        assert match is None
        return
    assert match is not None
    assert constants(match) == pytest.approx(rounded, rel=1e-9, abs=1e-12)


@SETTINGS
@given(st.randoms(use_true_random=False), st.integers(0, 25), st.integers(0, 3))
def test_recogniser_never_crashes_on_random_programs(rng, length, slots):
    p = random_program(rng, length, slots)
    match = recognize_lion(p)
    if match is not None:  # random programs are almost never Lion: see the next test
        assert fingerprint(match.program()) == fingerprint(p)


def test_matches_among_mutated_lions_are_lion_and_misses_are_not():
    # Lion a mutation or two away: many children still are Lion (a constant nudged, dead
    # code added), many are not; each match must rebuild the program's behaviour, and no
    # child whose behaviour is not some Lion's may match.
    import random

    from programs.mutation import Mutator

    mutator, lion = Mutator(), load_seed("lion")
    matched = missed = 0
    for seed in range(150):
        rng = random.Random(seed)
        child = lion
        for _ in range(1 + seed % 2):
            child = mutator(child, rng)[0]
        match = recognize_lion(child)
        if match is None:
            missed += 1
            continue
        matched += 1
        assert fingerprint(match.program()) == fingerprint(child), seed
    assert matched >= 20 and missed >= 20, (matched, missed)
