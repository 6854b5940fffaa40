"""Tests of the optax Lion optimizer (lion.lion, lion.scale_by_lion)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import optax
import pytest

import lion as lion_pkg
from lion import LionState, ScaleByLionState, lion, scale_by_lion
from lion_helpers import (assert_trees_equal, counted_jit, gradient_stream, make_params,
                          numpy_lion, regression_loss, run_closed_loop, run_open_loop,
                          tree_bytes)

ROOT = pathlib.Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------
# Convergence.


def test_converges_on_a_parabola():
    target = jnp.array([1.0, -2.0, 3.0, 0.5])
    loss = lambda p: jnp.sum((p["w"] - target) ** 2)
    tx = lion(optax.cosine_decay_schedule(0.1, 300))
    p, _, _ = run_closed_loop(tx, {"w": jnp.zeros(4)}, loss, 300)
    np.testing.assert_allclose(p["w"], target, atol=1e-3)


def test_converges_on_rosenbrock():
    def rosenbrock(p):
        return (1.0 - p["x"]) ** 2 + 100.0 * (p["y"] - p["x"] ** 2) ** 2

    start = {"x": jnp.array(-1.5), "y": jnp.array(2.0)}
    tx = lion(optax.cosine_decay_schedule(0.01, 3000))
    p, _, _ = run_closed_loop(tx, start, rosenbrock, 3000)
    assert float(rosenbrock(start)) > 10.0
    assert float(rosenbrock(p)) < 1e-4
    np.testing.assert_allclose([p["x"], p["y"]], [1.0, 1.0], atol=1e-2)


def test_constant_learning_rate_moves_every_coordinate_by_lr():
    # sign() makes the step size independent of the gradient's scale.
    params = {"w": jnp.array([0.0, 0.0, 0.0])}
    tx = lion(0.25)
    state = tx.init(params)
    updates, _ = tx.update({"w": jnp.array([1e-6, -3e4, 2.0])}, state, params)
    np.testing.assert_array_equal(updates["w"], [-0.25, 0.25, -0.25])


# --------------------------------------------------------------------------
# Equal to optax.lion and to the formula.


@pytest.mark.parametrize("b1,b2,wd", [(0.9, 0.99, 0.0), (0.9, 0.99, 0.3), (0.95, 0.98, 1.0),
                                      (0.5, 0.2, 0.1)])
def test_trajectory_equals_optax_lion_open_loop(b1, b2, wd):
    params = make_params()
    grads = gradient_stream(params, 400)
    ours = run_open_loop(lion(3e-3, b1, b2, weight_decay=wd), params, grads)
    ref = run_open_loop(optax.lion(3e-3, b1, b2, weight_decay=wd), params, grads)
    assert_trees_equal(ours[2], ref[2], rtol=1e-6, atol=1e-7)
    assert_trees_equal(ours[1].mu, ref[1][0].mu, rtol=1e-6, atol=1e-7)


def test_trajectory_equals_optax_lion_closed_loop():
    params = make_params()
    ours = run_closed_loop(lion(1e-2, weight_decay=0.5), params, regression_loss, 300)
    ref = run_closed_loop(optax.lion(1e-2, weight_decay=0.5), params, regression_loss, 300)
    assert_trees_equal(ours[2], ref[2], rtol=1e-6, atol=1e-7)
    # It did train, so that the comparison is not of two idle runs.
    assert float(regression_loss(ours[0])) < 0.5 * float(regression_loss(params))


def test_direct_formula_is_bitwise_optax_lion():
    # b2 < 0.5 takes the direct path, which evaluates optax's expressions.
    params = make_params()
    grads = gradient_stream(params, 200)
    ours = run_open_loop(lion(1e-2, b1=0.9, b2=0.3, weight_decay=0.2), params, grads)
    ref = run_open_loop(optax.lion(1e-2, b1=0.9, b2=0.3, weight_decay=0.2), params, grads)
    assert_trees_equal(ours[2], ref[2])


@pytest.mark.parametrize("b1,b2,wd", [(0.9, 0.99, 0.0), (0.95, 0.98, 0.7), (0.0, 0.0, 0.1),
                                      (0.3, 0.9, 0.0)])
def test_trajectory_equals_numpy_transcription(b1, b2, wd):
    params = make_params()
    grads = gradient_stream(params, 300)
    lr = 1e-2
    _, state, traj = run_open_loop(lion(lr, b1, b2, weight_decay=wd), params, grads)
    ref = numpy_lion(params, grads, lambda t: lr, b1, b2, lambda t: wd)
    ours = [np.asarray(x) for x in jax.tree.leaves(traj)]
    for i, leaf in enumerate(ours):
        expected = np.stack([step[i] for step in ref])
        np.testing.assert_allclose(leaf, expected, rtol=0, atol=2e-5)
    assert state.count is None


def test_scale_by_lion_chained_equals_lion():
    params = make_params()
    grads = gradient_stream(params, 200)
    chained = optax.chain(
        scale_by_lion(0.95, 0.98),
        optax.add_decayed_weights(0.4),
        optax.scale_by_learning_rate(5e-3),
    )
    ours = run_open_loop(lion(5e-3, 0.95, 0.98, weight_decay=0.4), params, grads)
    ref = run_open_loop(chained, params, grads)
    assert_trees_equal(ours[2], ref[2], rtol=1e-6, atol=1e-7)
    state = scale_by_lion().init(params)
    assert isinstance(state, ScaleByLionState) and state._fields == ("mu",)


def test_update_direction_sign_of_zero_is_zero():
    tx = scale_by_lion()
    params = {"w": jnp.zeros(3)}
    direction, _ = tx.update({"w": jnp.array([0.0, 2.0, -2.0])}, tx.init(params))
    np.testing.assert_array_equal(direction["w"], [0.0, 1.0, -1.0])


# --------------------------------------------------------------------------
# dtypes and state size.


@pytest.mark.parametrize("param_dtype", [jnp.float32, jnp.bfloat16, jnp.float16])
@pytest.mark.parametrize("mu_dtype", [None, jnp.bfloat16])
def test_dtypes_of_updates_and_state(param_dtype, mu_dtype):
    params = make_params(param_dtype)
    tx = lion(1e-3, weight_decay=0.1, mu_dtype=mu_dtype)
    state = tx.init(params)
    expected_mu = jnp.dtype(mu_dtype) if mu_dtype is not None else jnp.dtype(param_dtype)
    assert all(m.dtype == expected_mu for m in jax.tree.leaves(state.mu))
    step = jax.jit(tx.update)
    for t in range(3):
        grads = gradient_stream(params, 1, seed=t)
        grads = jax.tree.map(lambda g: g[0], grads)
        updates, state = step(grads, state, params)
        params = optax.apply_updates(params, updates)
    assert all(u.dtype == jnp.dtype(param_dtype) for u in jax.tree.leaves(updates))
    assert all(p.dtype == jnp.dtype(param_dtype) for p in jax.tree.leaves(params))
    assert all(m.dtype == expected_mu for m in jax.tree.leaves(state.mu))


def test_updates_keep_the_gradient_dtype_when_it_differs_from_params():
    params = make_params(jnp.float32)
    grads = jax.tree.map(lambda p: jnp.ones_like(p, jnp.bfloat16), params)
    tx = lion(optax.linear_schedule(1e-2, 1e-3, 10), weight_decay=optax.constant_schedule(0.1))
    updates, state = tx.update(grads, tx.init(params), params)
    assert all(u.dtype == jnp.bfloat16 for u in jax.tree.leaves(updates))
    assert all(m.dtype == jnp.float32 for m in jax.tree.leaves(state.mu))


@pytest.mark.parametrize("dtype,rtol", [(jnp.bfloat16, 2 ** -7), (jnp.float16, 2 ** -10)])
@pytest.mark.parametrize("mu_dtype", [None, jnp.bfloat16])
def test_low_precision_trajectory_follows_the_formula(dtype, rtol, mu_dtype):
    """Params, grads (and momentum) stored in low precision, arithmetic in float32."""
    np_dtype = {jnp.bfloat16: ml_dtypes.bfloat16, jnp.float16: np.float16}[dtype]
    mu_np = np_dtype if mu_dtype is None else ml_dtypes.bfloat16
    lr, b1, b2, wd = 1e-2, 0.9, 0.99, 0.5
    params = make_params(dtype)
    grads = gradient_stream(params, 40)
    _, state, traj = run_open_loop(lion(lr, b1, b2, weight_decay=wd, mu_dtype=mu_dtype),
                                   params, grads)
    # Reference: the same storage roundings, arithmetic in float32.
    f32 = np.float32
    for i, (p0, gs, tr) in enumerate(zip(jax.tree.leaves(params), jax.tree.leaves(grads),
                                         jax.tree.leaves(traj))):
        w = np.asarray(p0)
        m = np.zeros(w.shape, mu_np)
        for t in range(gs.shape[0]):
            g = np.asarray(gs[t]).astype(f32)
            c = f32(1 - b1) * g + f32(b1) * m.astype(f32)
            u = (f32(-lr) * (np.sign(c) + f32(wd) * w.astype(f32))).astype(np_dtype)
            w = (w.astype(f32) + u.astype(f32)).astype(np_dtype)
            m = (f32(1 - b2) * g + f32(b2) * m.astype(f32)).astype(mu_np)
            np.testing.assert_allclose(np.asarray(tr[t], f32), w.astype(f32), rtol=rtol, atol=1e-3)
        np.testing.assert_allclose(np.asarray(jax.tree.leaves(state.mu)[i], f32), m.astype(f32),
                                   rtol=2 ** -7, atol=1e-3)


def test_state_is_half_of_adamw_and_a_quarter_with_bf16_momentum():
    params = make_params()
    adamw = tree_bytes(optax.adamw(1e-3).init(params))
    plain = lion(1e-3).init(params)
    assert isinstance(plain, LionState) and plain.count is None
    assert tree_bytes(plain) == tree_bytes(params)
    # AdamW keeps two moments (and a 4-byte step count); Lion one.
    assert 2 * tree_bytes(plain) == adamw - 4
    assert 4 * tree_bytes(lion(1e-3, mu_dtype=jnp.bfloat16).init(params)) == adamw - 4
    # A schedule adds one int32 step count, nothing else.
    scheduled = lion(optax.linear_schedule(1e-3, 0.0, 100)).init(params)
    assert tree_bytes(scheduled) == tree_bytes(params) + 4


def test_tree_map_params_sees_the_momentum_as_params():
    # optax.tree_map_params is how users derive e.g. shardings of the state.
    params = make_params()
    tx = lion(optax.linear_schedule(1e-3, 0.0, 10), weight_decay=0.1)
    mapped = optax.tree_map_params(tx, lambda p: p.shape, tx.init(params),
                                   transform_non_params=lambda _: "other")
    assert mapped.mu == jax.tree.map(lambda p: p.shape, params)
    assert mapped.count == "other"


# --------------------------------------------------------------------------
# Schedules, inject_hyperparams, MultiSteps, masks.


def test_schedules_for_learning_rate_and_weight_decay():
    lr = optax.linear_schedule(2e-2, 1e-3, 150)
    wd = optax.piecewise_constant_schedule(0.5, {50: 0.1, 100: 4.0})
    params = make_params()
    grads = gradient_stream(params, 200)
    _, state, traj = run_open_loop(lion(lr, 0.9, 0.99, weight_decay=wd), params, grads)
    assert int(state.count) == 200
    ref = numpy_lion(params, grads, lambda t: float(lr(t)), 0.9, 0.99, lambda t: float(wd(t)))
    for i, leaf in enumerate(jax.tree.leaves(traj)):
        np.testing.assert_allclose(leaf, np.stack([s[i] for s in ref]), rtol=0, atol=2e-5)
    optax_ref = run_open_loop(optax.lion(lr, 0.9, 0.99, weight_decay=wd), params, grads)
    assert_trees_equal(traj, optax_ref[2], rtol=1e-6, atol=1e-7)


def test_inject_hyperparams():
    params = make_params()
    grads = gradient_stream(params, 100)
    injected = optax.inject_hyperparams(lion)(learning_rate=1e-2, b1=0.95, b2=0.98,
                                              weight_decay=0.3)
    ours = run_open_loop(injected, params, grads)
    ref = run_open_loop(lion(1e-2, 0.95, 0.98, weight_decay=0.3), params, grads)
    assert_trees_equal(ours[2], ref[2], rtol=1e-6, atol=1e-7)

    # A hyperparameter changed in the state takes effect, without recompiling.
    step, traces = counted_jit(injected.update)
    state = injected.init(params)
    zero = jax.tree.map(jnp.zeros_like, params)
    updates, state = step(zero, state, params)
    np.testing.assert_allclose(updates["scale"], -1e-2 * 0.3 * params["scale"], rtol=1e-6)
    state.hyperparams["learning_rate"] = jnp.asarray(1e-1, jnp.float32)
    state.hyperparams["weight_decay"] = jnp.asarray(0.0, jnp.float32)
    updates, state = step(zero, state, params)
    np.testing.assert_array_equal(updates["scale"], 0.0)
    state.hyperparams["weight_decay"] = jnp.asarray(2.0, jnp.float32)
    updates, state = step(zero, state, params)
    np.testing.assert_allclose(updates["scale"], -0.2 * params["scale"], rtol=1e-6)
    assert len(traces) == 1


def test_inject_hyperparams_with_a_schedule_and_bf16_momentum():
    lr = optax.exponential_decay(1e-2, 10, 0.5)
    injected = optax.inject_hyperparams(lion, static_args=("mu_dtype",))(
        learning_rate=lr, mu_dtype=jnp.bfloat16)
    params = make_params()
    grads = gradient_stream(params, 30)
    p, state, traj = run_open_loop(injected, params, grads)
    ref = run_open_loop(lion(lr, mu_dtype=jnp.bfloat16), params, grads)
    assert_trees_equal(traj, ref[2], rtol=1e-6, atol=1e-7)
    assert all(m.dtype == jnp.bfloat16 for m in jax.tree.leaves(state.inner_state.mu))
    np.testing.assert_allclose(state.hyperparams["learning_rate"], lr(29), rtol=1e-6)


def test_multisteps_averages_gradients_over_k_microbatches():
    k, outer = 4, 25
    params = make_params()
    micro = gradient_stream(params, k * outer)
    means = jax.tree.map(lambda g: g.reshape((outer, k) + g.shape[1:]).mean(axis=1), micro)
    accumulating = optax.MultiSteps(lion(1e-2, weight_decay=0.2), every_k_schedule=k)
    _, _, traj = run_open_loop(accumulating, params, micro)
    _, _, ref = run_open_loop(lion(1e-2, weight_decay=0.2), params, means)
    every_kth = jax.tree.map(lambda x: x[k - 1::k], traj)
    assert_trees_equal(every_kth, ref, rtol=1e-6, atol=1e-6)
    # Between the k-th microbatches the params do not move.
    np.testing.assert_array_equal(traj["scale"][0], params["scale"])
    np.testing.assert_array_equal(traj["scale"][k - 2], params["scale"])


MASKS = {
    "pytree": {"dense": {"w": True, "b": False}, "scale": False},
    "prefix": {"dense": True, "scale": False},
    "callable": lambda p: jax.tree.map(lambda x: x.ndim == 2, p),
}
DECAYED = {"pytree": {"w"}, "prefix": {"w", "b"}, "callable": {"w"}}


@pytest.mark.parametrize("kind", sorted(MASKS))
def test_mask_applies_weight_decay_only_where_true(kind):
    params = make_params()
    tx = lion(0.1, weight_decay=0.5, mask=MASKS[kind])
    zero = jax.tree.map(jnp.zeros_like, params)  # sign(c) = 0: the update is the decay
    updates, _ = jax.jit(tx.update)(zero, tx.init(params), params)
    flat = {"w": updates["dense"]["w"], "b": updates["dense"]["b"], "scale": updates["scale"]}
    originals = {"w": params["dense"]["w"], "b": params["dense"]["b"], "scale": params["scale"]}
    for name, update in flat.items():
        if name in DECAYED[kind]:
            np.testing.assert_allclose(update, -0.05 * originals[name], rtol=1e-6)
        else:
            np.testing.assert_array_equal(update, 0.0)
    # Over a trajectory, the same as optax.lion with the same mask.
    grads = gradient_stream(params, 100)
    ours = run_open_loop(tx, params, grads)
    ref = run_open_loop(optax.lion(0.1, weight_decay=0.5, mask=MASKS[kind]), params, grads)
    assert_trees_equal(ours[2], ref[2], rtol=1e-6, atol=1e-6)


# --------------------------------------------------------------------------
# jit: no recompilation.


@pytest.mark.parametrize("config", [
    dict(learning_rate=1e-3),
    dict(learning_rate=1e-3, weight_decay=0.1, mu_dtype=jnp.bfloat16),
    dict(learning_rate=optax.cosine_decay_schedule(1e-3, 10),
         weight_decay=optax.linear_schedule(0.1, 0.0, 10), mask={"dense": True, "scale": False}),
])
def test_jit_compiles_once(config):
    tx = lion(**config)
    params = make_params()

    def train_step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    step, traces = counted_jit(train_step)
    state = tx.init(params)
    for t in range(4):
        grads = jax.tree.map(lambda g: g[0], gradient_stream(params, 1, seed=t))
        params, state = step(params, state, grads)
    assert len(traces) == 1


def test_jit_of_donated_step_compiles_once():
    tx = lion(1e-3, weight_decay=0.1)
    params = make_params()
    grads = jax.tree.map(jnp.ones_like, params)
    step, traces = counted_jit(lambda p, s, g: tx.update(g, s, p), donate_argnums=(1,))
    state = tx.init(params)
    for _ in range(3):
        _, state = step(params, state, grads)
    assert len(traces) == 1


def test_donated_step_does_not_copy_the_momentum():
    # The reason the sign is computed from the updated momentum (see
    # lion.optax_lion._sign_and_momentum): with the direct formula XLA's CPU
    # backend copies the donated momentum before updating it in place.
    params = make_params()
    compiled = {}
    for name, tx in {"lion": lion(1e-3, weight_decay=0.1),
                     "direct": lion(1e-3, b2=0.3, weight_decay=0.1)}.items():
        def step(p, s, g, tx=tx):
            updates, s = tx.update(g, s, p)
            return optax.apply_updates(p, updates), s

        lowered = jax.jit(step, donate_argnums=(0, 1)).lower(params, tx.init(params), params)
        compiled[name] = lowered.compile().as_text()
    assert " copy(" not in compiled["lion"]
    # (Whether XLA copies the direct formula's momentum is XLA's business, not asserted.)


# --------------------------------------------------------------------------
# Sharded parameters (two CPU devices, in a subprocess so the flag stays there).


def test_sharded_params_get_sharded_state():
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    script = ROOT / "tests" / "lion_sharding_check.py"
    result = subprocess.run([sys.executable, str(script)], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "SHARDING-OK" in result.stdout


# --------------------------------------------------------------------------
# Bad arguments.


@pytest.mark.parametrize("kwargs,message", [
    (dict(learning_rate=-1e-3), "learning_rate must be >= 0"),
    (dict(learning_rate=float("nan")), "learning_rate must be finite"),
    (dict(learning_rate="fast"), "learning_rate must be a number"),
    (dict(learning_rate=jnp.ones(3)), "learning_rate must be a real scalar"),
    (dict(learning_rate=1e-3, b1=1.0), r"b1 must be in \[0, 1\)"),
    (dict(learning_rate=1e-3, b1=-0.1), r"b1 must be in \[0, 1\)"),
    (dict(learning_rate=1e-3, b2=1.5), r"b2 must be in \[0, 1\)"),
    (dict(learning_rate=1e-3, b2=lambda t: 0.9), "b2 must be a number in"),
    (dict(learning_rate=1e-3, b1=True), "b1 must be a number"),
    (dict(learning_rate=1e-3, weight_decay=-0.1), "weight_decay must be >= 0"),
    (dict(learning_rate=1e-3, weight_decay=float("inf")), "weight_decay must be finite"),
    (dict(learning_rate=1e-3, mu_dtype=jnp.int32), "mu_dtype must be a floating dtype"),
    (dict(learning_rate=1e-3, mu_dtype="no-such-dtype"), "mu_dtype must be None or a floating"),
    (dict(learning_rate=1e-3, mask={"w": 1.0}), "mask leaves must be Python bools"),
])
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lion(**kwargs)


def test_bad_arguments_of_scale_by_lion_are_rejected():
    with pytest.raises(ValueError, match=r"b2 must be in \[0, 1\)"):
        scale_by_lion(b2=1.0)
    with pytest.raises(ValueError, match="mu_dtype must be a floating dtype"):
        scale_by_lion(mu_dtype=jnp.int8)


def test_weight_decay_without_params_is_a_clear_error():
    params = make_params()
    tx = lion(1e-3, weight_decay=0.1)
    with pytest.raises(ValueError, match="weight decay needs the params"):
        tx.update(params, tx.init(params))
    # Without weight decay the params are not needed.
    tx = lion(1e-3)
    updates, _ = tx.update(params, tx.init(params))
    assert jax.tree.structure(updates) == jax.tree.structure(params)


def test_callable_mask_returning_arrays_is_rejected():
    params = make_params()
    tx = lion(1e-3, weight_decay=0.1, mask=lambda p: jax.tree.map(lambda x: x > 0, p))
    with pytest.raises(ValueError, match="mask leaves must be Python bools"):
        tx.update(params, tx.init(params), params)


# --------------------------------------------------------------------------
# Package hygiene, example and benchmark.


def test_docstring_examples():
    import doctest

    import lion.optax_lion

    result = doctest.testmod(lion.optax_lion)
    assert result.attempted > 0 and result.failed == 0


def test_importing_lion_imports_neither_torch_nor_the_search():
    code = ("import sys, lion; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'ray', 'programs', 'evaluators', 'search')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    assert lion_pkg.lion is lion


def _load(path: pathlib.Path, name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_lion_vs_adamw_runs():
    example = _load(ROOT / "examples" / "lion_vs_adamw.py", "lion_vs_adamw_example")
    result = example.main(steps=60, log_every=30)
    for name in ("lion", "adamw"):
        losses = result[name]
        assert np.all(np.isfinite(losses))
        assert losses[-1] < 0.7 * losses[0]


def test_benchmark_runs_on_a_small_tree():
    bench = _load(ROOT / "benchmarks" / "lion_step.py", "lion_step_benchmark")
    result = bench.run_benchmark(rounds=2, steps_per_round=1, d_model=16, ff=32, vocab=50)
    assert {"lion.lion", "optax.lion", "optax.adamw", "lion.lion[mu=bfloat16]"} <= set(
        result["step_time_s"])
    assert result["state_bytes_ratio"]["lion.lion / optax.adamw"] == pytest.approx(0.5, abs=1e-3)
    assert result["state_bytes_ratio"]["lion.lion[mu=bfloat16] / optax.adamw"] == pytest.approx(
        0.25, abs=1e-3)
    assert result["machine"]["jax_backend"] == jax.default_backend()
