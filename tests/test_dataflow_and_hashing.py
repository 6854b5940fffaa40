"""Redundancy across steps, its removal, and the structural hash."""

import pytest

from programs.dataflow import (count_redundant, dataflow_graph, liveness,
                               redundant_statements, remove_redundancy)
from programs.funcsim import fingerprint
from programs.hashing import structural_hash
from programs.kinds import is_valid
from programs.seed_programs import SEED_NAMES, load_seed, seed_path
from tests.conftest import program


def test_dead_state_slot_and_its_producers_are_redundant():
    p = program("""
        def train(w, g, m, v, lr):
            g2 = square(g)
            v = interp(g2, v, 0.999)
            m = interp(g, m, 0.9)
            update = sign(m)
            return update, m, v
    """)
    assert redundant_statements(p) == [0, 1]
    assert liveness(p).live_slots == {0}


def test_state_read_only_in_a_later_step_is_live():
    # v feeds the update only through m in the next step: live across steps.
    p = program("""
        def train(w, g, m, v, lr):
            update = sign(m)
            m = m + v
            v = g * 0.5
            return update, m, v
    """)
    assert redundant_statements(p) == []
    assert liveness(p).live_slots == {0, 1}


def test_overwritten_value_is_redundant():
    p = program("""
        def train(w, g, m, v, lr):
            u = exp(g)
            u = sign(g)
            return u, m, v
    """)
    assert redundant_statements(p) == [0]


def test_graph_has_step_boundary_edges():
    graph = dataflow_graph(load_seed("adamw"))
    assert graph.has_edge(("out", 1), ("in", "m"))
    assert graph.has_edge(("out", 2), ("in", "v"))


def test_remove_redundancy_keeps_behaviour_and_renames_when_needed():
    p = program("""
        def train(w, g, m, v, lr):
            v = exp(g)
            x = cosh(v)
            m = interp(g, m, 0.9)
            u = sign(m)
            return u, m, v
    """)
    # Slot v's incoming value is never read, so the slot is dead; nothing live needs
    # `v = exp(g)` or `x = cosh(v)` either: both go, and v returns its own input.
    q = remove_redundancy(p)
    assert len(q) == 2 and q.returns == ("u", "m", "v")
    assert fingerprint(q) == fingerprint(p)
    r = program("""
        def train(w, g, m, v, lr):
            v = sign(g)
            m = interp(v, m, 0.9)
            return m, m, v
    """)
    s = remove_redundancy(r)  # v is written by a live statement but its slot is dead
    assert is_valid(s) and count_redundant(s) == 0
    assert s.returns[2] == "v" and s.statements[0].target != "v"
    assert fingerprint(s) == fingerprint(r)


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seeds_have_no_redundant_statements(name):
    assert count_redundant(load_seed(name)) == 0


def test_structural_hash_invariances():
    base = program("""
        def train(w, g, m, v, lr):
            a = g * lr
            b = w * 0.01
            m = interp(g, m, 0.9)
            c = a + b
            return c, m, v
    """)
    reordered_commuted_renamed = program("""
        def train(p, d, s, t, r):
            s = interp(d, s, 0.9)
            y = p * 0.01
            x = r * d
            junk = exp(x)
            z = y + x
            return z, s, t
    """)
    other_slot = program("""
        def train(w, g, m, v, lr):
            a = g * lr
            b = w * 0.01
            v = interp(g, v, 0.9)
            c = a + b
            return c, m, v
    """)
    assert structural_hash(base) == structural_hash(reordered_commuted_renamed)
    assert structural_hash(base) == structural_hash(other_slot)
    changed = program(open(seed_path("adamw")).read())
    assert structural_hash(changed) != structural_hash(base)


def test_structural_hash_sees_non_commutative_order_and_constants():
    a = program("def train(w, g, lr):\n    u = g - w\n    return u")
    b = program("def train(w, g, lr):\n    u = w - g\n    return u")
    c = program("def train(w, g, lr):\n    u = g - 1.0\n    return u")
    d = program("def train(w, g, lr):\n    u = g - 2.0\n    return u")
    assert len({structural_hash(x) for x in (a, b, c, d)}) == 4


def test_structural_hash_separates_the_seeds():
    assert len({structural_hash(load_seed(n)) for n in SEED_NAMES}) == len(SEED_NAMES)
