"""Mutation: the three kinds, validity, determinism, constants, limits."""

import collections
import math
import random

import pytest

from programs.kinds import is_valid
from programs.mutation import MutationConfig, Mutator
from programs.program import Const
from programs.seed_programs import load_seed
from tests.conftest import program

ADAMW = load_seed("adamw")


def children(parent, count, seed=0, config=None):
    rng = random.Random(seed)
    mutator = Mutator(config)
    return [mutator(parent, rng) for _ in range(count)]


def test_same_seed_same_children():
    assert children(ADAMW, 50, seed=3) == children(ADAMW, 50, seed=3)
    assert children(ADAMW, 50, seed=3) != children(ADAMW, 50, seed=4)


def test_all_three_kinds_happen_and_change_the_length_as_they_should():
    kinds = collections.Counter()
    for child, mutation in children(ADAMW, 300):
        kinds[mutation.kind] += 1
        expected = {"insert": 1, "delete": -1, "modify": 0}[mutation.kind]
        assert len(child) - len(ADAMW) == expected
        assert child != ADAMW
        assert is_valid(child)
    assert set(kinds) == {"insert", "delete", "modify"}
    assert min(kinds.values()) > 50


def test_weights_select_kinds():
    only_delete = MutationConfig(insert=0, delete=1, modify=0)
    assert {m.kind for _, m in children(ADAMW, 30, config=only_delete)} == {"delete"}


def test_max_length_is_respected():
    config = MutationConfig(max_length=len(ADAMW))
    assert all(len(c) <= len(ADAMW) for c, _ in children(ADAMW, 200, config=config))


def test_long_random_walk_stays_valid():
    rng = random.Random(11)
    mutator = Mutator(MutationConfig(max_length=20))
    parent = ADAMW
    for _ in range(2000):
        parent, _ = mutator(parent, rng)
        assert is_valid(parent) and len(parent) <= 20


def test_constant_perturbation_is_a_power_of_two_scaling():
    p = program("""
        def train(w, g, m, v, lr):
            u = g * 0.75
            return u, m, v
    """)
    config = MutationConfig(insert=0, delete=0, modify=1, perturb_prob=1.0)
    ratios = []
    for child, mutation in children(p, 400, config=config):
        arg = child.statements[0].args[1]
        if isinstance(arg, Const) and "0.75 ->" in mutation.detail:
            ratios.append(arg.value / 0.75)
    assert len(ratios) > 100
    exponents = [math.log2(r) for r in ratios]
    mean = sum(exponents) / len(exponents)
    spread = (sum((e - mean) ** 2 for e in exponents) / len(exponents)) ** 0.5
    assert abs(mean) < 0.25 and 0.75 < spread < 1.25  # a ~ N(0, 1)


def test_new_constants_are_standard_normal():
    p = program("""
        def train(w, g, m, v, lr):
            u = g * w
            return u, m, v
    """)
    config = MutationConfig(insert=0, delete=0, modify=1, constant_prob=1.0,
                            named_constant_prob=0.0)
    values = [c.statements[0].args[i].value for c, m in children(p, 400, config=config)
              for i in range(2) if isinstance(c.statements[0].args[i], Const)]
    assert len(values) > 300
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    assert abs(mean) < 0.15 and 0.85 < std < 1.15


def test_bad_config_is_rejected():
    with pytest.raises(ValueError):
        MutationConfig(insert=-1)
    with pytest.raises(ValueError):
        MutationConfig(max_length=0)
    with pytest.raises(ValueError):
        MutationConfig(constant_prob=2.0)
