"""Helpers shared by the Lion tests: small pytrees, gradient streams, runners, references."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax


def make_params(dtype=jnp.float32, seed=0):
    rng = np.random.default_rng(seed)
    normal = lambda *shape: jnp.asarray(rng.standard_normal(shape, np.float32), dtype)
    return {"dense": {"w": normal(12, 7), "b": normal(7)}, "scale": normal(5)}


def gradient_stream(params, steps, seed=1):
    """A fixed stream of gradients: a pytree whose leaves have a leading time axis."""
    rng = np.random.default_rng(seed)
    return jax.tree.map(
        lambda x: jnp.asarray(rng.standard_normal((steps,) + x.shape, np.float32), x.dtype),
        params)


def run_open_loop(tx, params, grads):
    """Applies ``tx`` to a fixed gradient stream; returns the params after each step."""

    @jax.jit
    def go(params, grads):
        def body(carry, g):
            p, s = carry
            u, s = tx.update(g, s, p)
            p = optax.apply_updates(p, u)
            return (p, s), p

        (p, s), traj = jax.lax.scan(body, (params, tx.init(params)), grads)
        return p, s, traj

    return go(params, grads)


def run_closed_loop(tx, params, loss, steps):
    @jax.jit
    def go(params):
        def body(carry, _):
            p, s = carry
            u, s = tx.update(jax.grad(loss)(p), s, p)
            p = optax.apply_updates(p, u)
            return (p, s), p

        (p, s), traj = jax.lax.scan(body, (params, tx.init(params)), None, length=steps)
        return p, s, traj

    return go(params)


def assert_trees_equal(a, b, **tol):
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        assert x.dtype == y.dtype
        if tol:
            np.testing.assert_allclose(np.asarray(x, np.float64), np.asarray(y, np.float64), **tol)
        else:
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def regression_loss(params):
    x = jnp.linspace(-1.0, 1.0, 48).reshape(4, 12)
    y = jnp.sin(jnp.arange(28.0)).reshape(4, 7)
    pred = jnp.tanh(x @ params["dense"]["w"] + params["dense"]["b"])
    return jnp.mean((pred - y) ** 2) + 0.1 * jnp.sum(params["scale"] ** 2)


def numpy_lion(params, grads, lr, b1, b2, wd, mask=None):
    """The paper's formula, transcribed in float64 numpy.

    ``lr`` and ``wd`` are functions of the step number; ``mask`` maps leaf
    index to whether weight decay applies.
    """
    w = [np.asarray(x, np.float64) for x in jax.tree.leaves(params)]
    gs = [np.asarray(x, np.float64) for x in jax.tree.leaves(grads)]
    m = [np.zeros_like(x) for x in w]
    traj = []
    for t in range(gs[0].shape[0]):
        for i in range(len(w)):
            g = gs[i][t]
            c = b1 * m[i] + (1 - b1) * g
            decay = wd(t) if (mask is None or mask[i]) else 0.0
            w[i] = w[i] - lr(t) * (np.sign(c) + decay * w[i])
            m[i] = b2 * m[i] + (1 - b2) * g
        traj.append([x.copy() for x in w])
    return traj


def tree_bytes(tree):
    return sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(tree))


def counted_jit(fn, **jit_kwargs):
    """``(jitted, traces)``: ``jax.jit(fn)`` and a list that grows by one each time jax
    traces ``fn`` (each new compilation), through no private jax API.

    >>> step, traces = counted_jit(lambda x: x + 1)
    >>> _ = step(jnp.ones(2)), step(jnp.zeros(2)), step(jnp.ones(3))
    >>> len(traces)
    2
    """
    traces = []

    def traced(*args, **kwargs):
        traces.append(1)
        return fn(*args, **kwargs)

    return jax.jit(traced, **jit_kwargs), traces
