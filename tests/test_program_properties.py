"""Hypothesis properties of the program language over random valid programs."""

import random

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from programs.dataflow import count_redundant, remove_redundancy
from programs.executor import Executor, Stacked
from programs.funcsim import fingerprint, streams
from programs.generate import random_program
from programs.hashing import structural_hash
from programs.kinds import is_valid
from programs.mutation import MutationConfig, Mutator
from programs.parser import parse
from programs.printer import to_source
from programs.program import Program, Statement, Var

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

programs = st.builds(random_program, st.randoms(use_true_random=False),
                     st.integers(0, 25), st.integers(0, 3))


def rename(program: Program, rng: random.Random) -> Program:
    """Every name replaced by a fresh one (a bijection)."""
    names = list(dict.fromkeys([*program.params, *(s.target for s in program.statements)]))
    fresh = [f"n{i}" for i in range(len(names))]
    rng.shuffle(fresh)
    new = dict(zip(names, fresh))
    statements = [Statement(new[s.target], s.op,
                            tuple(Var(new[a.name]) if isinstance(a, Var) else a for a in s.args))
                  for s in program.statements]
    return Program(tuple(new[p] for p in program.params), tuple(statements),
                   tuple(new[r] for r in program.returns))


def add_dead_code(program: Program, rng: random.Random, count: int) -> Program:
    """``count`` statements inserted at random places, assigning fresh names nobody reads."""
    mutator = Mutator(MutationConfig(insert=1, delete=0, modify=0, new_variable_prob=1.0,
                                     max_length=len(program) + count))
    for _ in range(count):
        program, _ = mutator(program, rng)
    return program


@SETTINGS
@given(programs)
def test_print_parse_round_trip(program):
    text = to_source(program)
    assert parse(text) == program
    assert to_source(parse(text)) == text


@SETTINGS
@given(programs, st.randoms(use_true_random=False))
def test_every_mutation_of_a_valid_program_is_valid(program, rng):
    mutator = Mutator()
    for _ in range(5):
        child, mutation = mutator(program, rng)
        assert is_valid(child), mutation
        assert parse(to_source(child)) == child


@SETTINGS
@given(programs, st.randoms(use_true_random=False))
def test_hashes_ignore_renaming(program, rng):
    renamed = rename(program, rng)
    assert structural_hash(renamed) == structural_hash(program)
    assert fingerprint(renamed) == fingerprint(program)


@SETTINGS
@given(programs, st.randoms(use_true_random=False), st.integers(1, 4))
def test_hashes_ignore_dead_code(program, rng, count):
    padded = add_dead_code(program, rng, count)
    assert count_redundant(padded) == count_redundant(program) + count
    assert structural_hash(padded) == structural_hash(program)
    assert fingerprint(padded) == fingerprint(program)


@SETTINGS
@given(programs)
def test_removing_redundancy_keeps_behaviour(program):
    lean = remove_redundancy(program)
    assert is_valid(lean) and count_redundant(lean) == 0
    assert structural_hash(lean) == structural_hash(program)
    weights, grads, lrs = streams()  # the updates themselves, not through funcsim
    full, _ = Executor(program, np.float64, Stacked()).run(weights, grads, lrs)
    slim, _ = Executor(lean, np.float64, Stacked()).run(weights, grads, lrs)
    np.testing.assert_array_equal(np.stack(full), np.stack(slim))


@SETTINGS
@given(programs, st.integers(0, 2**32 - 1))
def test_random_programs_never_crash_the_executor(program, seed):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(3, 4)).astype(np.float32) * 10.0 ** rng.integers(-5, 5)
    executor = Executor(program)
    state = executor.init_state(w)
    for _ in range(3):
        update, state = executor.step(w, w * 2.0, state, float(rng.random()))
        assert update.shape == w.shape and update.dtype == np.float32
        assert all(s.shape == w.shape for s in state)
    assert isinstance(fingerprint(program), str)
    assert to_source(program)
