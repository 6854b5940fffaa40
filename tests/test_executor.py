"""The numpy reference executor."""

import warnings

import numpy as np
import pytest

from programs.executor import Executor, Segments, SingleTensor, Stacked
from programs.seed_programs import load_seed
from tests.conftest import program


def streams(steps=20, size=7, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(steps, size)).astype(np.float32),
            rng.normal(size=(steps, size)).astype(np.float32),
            np.linspace(1.0, 0.1, steps).astype(np.float32))


def test_adamw_seed_matches_the_formula_over_many_steps():
    weights, grads, lrs = streams()
    updates, (m, v) = Executor(load_seed("adamw")).run(weights, grads, lrs)
    m_ref = np.zeros(7, np.float32)
    v_ref = np.zeros(7, np.float32)
    b1, b2 = np.float32(0.9), np.float32(0.999)  # interp's (1 - a) is rounded in float32
    for w, g, lr, update in zip(weights, grads, lrs, updates):
        m_ref = (1 - b1) * g + b1 * m_ref
        v_ref = (1 - b2) * g * g + b2 * v_ref
        expected = (m_ref / (np.sqrt(v_ref) + 1e-8) + 0.01 * w) * lr * 0.001
        np.testing.assert_allclose(update, expected, rtol=1e-5)
        assert update.dtype == np.float32
    np.testing.assert_allclose(m, m_ref, rtol=1e-5)
    np.testing.assert_allclose(v, v_ref, rtol=1e-5)


def test_lion_seed_matches_the_formula_and_keeps_one_state():
    weights, grads, lrs = streams()
    updates, (m, v) = Executor(load_seed("lion")).run(weights, grads, lrs)
    m_ref = np.zeros(7, np.float32)
    for w, g, lr, update in zip(weights, grads, lrs, updates):
        c = 0.1 * g + 0.9 * m_ref
        np.testing.assert_allclose(update, lr * 1e-4 * (np.sign(c) + 0.1 * w), rtol=1e-5)
        m_ref = 0.01 * g + 0.99 * m_ref
    np.testing.assert_allclose(m, m_ref, rtol=1e-5)
    assert not v.any()


def test_train_applies_updates_and_converges_on_a_parabola():
    target = np.array([1.0, -2.0, 3.0], np.float32)
    prog = program("""
        def train(w, g, m, v, lr):
            update = g * 0.1
            return update, m, v
    """)
    w, _ = Executor(prog).train(np.zeros(3), lambda w, step: w - target, [1.0] * 200)
    np.testing.assert_allclose(w, target, atol=1e-4)


REDUCING = program("""
    def train(w, g, m, v, lr):
        n = norm(g)
        gn = global_norm(g)
        d = dot(g, w)
        c = cosine_sim(g, w)
        a = n + gn
        b = d + c
        u = g * a
        update = u + b
        return update, m, v
""")


def test_contexts_agree_on_reductions():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(2, 5))
    g = rng.normal(size=(2, 5))
    stacked, _ = Executor(REDUCING, np.float64, Stacked()).step(w, g, (w * 0, w * 0), 1.0)
    flat, _ = Executor(REDUCING, np.float64, Segments([5, 5])).step(
        w.ravel(), g.ravel(), (w.ravel() * 0, w.ravel() * 0), 1.0)
    np.testing.assert_allclose(stacked.ravel(), flat, rtol=1e-12)
    gn = np.linalg.norm(g)
    for k in range(2):
        one, _ = Executor(REDUCING, np.float64, SingleTensor()).step(
            w[k], g[k], (w[k] * 0, w[k] * 0), 1.0)
        n, d = np.linalg.norm(g[k]), g[k] @ w[k]
        c = d / (n * np.linalg.norm(w[k]) + 1e-8)
        np.testing.assert_allclose(stacked[k], g[k] * (n + gn) + d + c, rtol=1e-12)
        assert not np.allclose(one, stacked[k])  # global_norm differs with one tensor


def test_segments_of_different_sizes():
    ctx = Segments([1, 3])
    np.testing.assert_allclose(ctx.param_sum(np.array([2.0, 1.0, 1.0, 1.0])), [2, 3, 3, 3])
    np.testing.assert_allclose(ctx.global_sum(np.array([2.0, 1.0, 1.0, 1.0])), [5])


def test_blow_up_is_returned_not_raised():
    prog = program("""
        def train(w, g, m, v, lr):
            a = exp(g)
            b = exp(a)
            c = b - b
            update = c * g
            return update, m, v
    """)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        update, _ = Executor(prog).step(np.full(3, 100.0), np.full(3, 100.0),
                                        (np.zeros(3), np.zeros(3)), 1.0)
    assert np.isnan(update).all()


def test_invalid_program_is_refused():
    from programs.errors import ProgramError
    from programs.program import Program, Statement, Var

    bad = Program(("w", "g", "lr"), (Statement("n", "norm", (Var("g"),)),), ("n",))
    with pytest.raises(ProgramError, match="must be a tensor"):
        Executor(bad)
