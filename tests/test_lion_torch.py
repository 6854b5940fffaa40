"""Tests of the PyTorch Lion optimizer (lion.torch.Lion)."""

from __future__ import annotations

import copy
import io

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

from lion import lion  # noqa: E402
from lion.torch import Lion  # noqa: E402
from lion_helpers import run_open_loop  # noqa: E402

SHAPES = {"w": (12, 7), "b": (7,), "scale": (5,)}


def make_params(seed=0, dtype=torch.float32):
    rng = np.random.default_rng(seed)
    return {name: torch.nn.Parameter(torch.tensor(rng.standard_normal(shape), dtype=dtype))
            for name, shape in SHAPES.items()}


def gradient_stream(steps, seed=1):
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal((steps,) + shape).astype(np.float32)
            for name, shape in SHAPES.items()}


def run_torch(opt, params, grads, start=0, stop=None):
    """Feeds grads[start:stop] to ``opt``; returns the params after each step."""
    stop = stop if stop is not None else next(iter(grads.values())).shape[0]
    traj = {name: [] for name in params}
    for t in range(start, stop):
        for name, p in params.items():
            p.grad = torch.tensor(grads[name][t], dtype=p.dtype)
        opt.step()
        for name, p in params.items():
            traj[name].append(p.detach().clone().float().numpy())
    return {name: np.stack(v) for name, v in traj.items()}


def run_jax(tx, params, grads):
    params = {name: p if isinstance(p, jax.Array) else jnp.asarray(p.detach().numpy())
              for name, p in params.items()}
    grads = {name: jnp.asarray(g) for name, g in grads.items()}
    trajectory = run_open_loop(tx, params, grads)[2]
    return {name: np.asarray(v) for name, v in trajectory.items()}


# --------------------------------------------------------------------------
# Same numbers as the jax version.


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("lr,betas,wd", [(1e-2, (0.9, 0.99), 0.0), (3e-3, (0.95, 0.98), 1.0),
                                         (1e-2, (0.5, 0.2), 0.3)])
def test_equals_the_jax_version_on_the_same_gradient_stream(foreach, lr, betas, wd):
    params = make_params()
    grads = gradient_stream(300)
    expected = run_jax(lion(lr, *betas, weight_decay=wd), params, grads)
    opt = Lion(params.values(), lr=lr, betas=betas, weight_decay=wd, foreach=foreach)
    got = run_torch(opt, params, grads)
    for name in SHAPES:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-6, atol=1e-6)


def test_param_groups_have_their_own_hyperparameters():
    params = make_params()
    grads = gradient_stream(100)
    opt = Lion([
        {"params": [params["w"], params["b"]], "weight_decay": 0.5},
        {"params": [params["scale"]], "lr": 3e-3, "betas": (0.95, 0.98)},
    ], lr=1e-2, weight_decay=0.0, foreach=True)
    got = run_torch(opt, params, grads)
    original = make_params()
    dense = run_jax(lion(1e-2, weight_decay=0.5),
                    {k: original[k] for k in ("w", "b")}, {k: grads[k] for k in ("w", "b")})
    scale = run_jax(lion(3e-3, 0.95, 0.98), {"scale": original["scale"]},
                    {"scale": grads["scale"]})
    for name, expected in {**dense, **scale}.items():
        np.testing.assert_allclose(got[name], expected, rtol=1e-6, atol=1e-6)


def test_foreach_and_single_tensor_paths_agree():
    grads = gradient_stream(200)
    results = []
    for foreach in (False, True):
        params = make_params()
        opt = Lion(params.values(), lr=1e-2, weight_decay=0.2, foreach=foreach)
        results.append(run_torch(opt, params, grads))
    for name in SHAPES:
        np.testing.assert_allclose(results[0][name], results[1][name], rtol=1e-6, atol=1e-7)


def test_lr_scheduler_matches_a_jax_schedule():
    params = make_params()
    grads = gradient_stream(60)
    opt = Lion(params.values(), lr=1e-2, weight_decay=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=20, gamma=0.5)
    traj = {name: [] for name in params}
    for t in range(60):
        for name, p in params.items():
            p.grad = torch.tensor(grads[name][t])
        opt.step()
        sched.step()
        for name, p in params.items():
            traj[name].append(p.detach().clone().numpy())
    jax_lr = optax.piecewise_constant_schedule(1e-2, {20: 0.5, 40: 0.5})
    expected = run_jax(lion(jax_lr, weight_decay=0.1), make_params(), grads)
    for name in SHAPES:
        np.testing.assert_allclose(np.stack(traj[name]), expected[name], rtol=1e-6, atol=1e-6)


def test_doc_example_formula():
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0]))
    opt = Lion([w], lr=0.1, weight_decay=0.5)
    (w ** 2).sum().backward()
    opt.step()
    # w - lr * (sign(0.1 * g) + wd * w) with g = 2w
    torch.testing.assert_close(w.data, torch.tensor([0.85, -1.8, 2.75]))


# --------------------------------------------------------------------------
# Training, state, dtypes.


def test_converges_on_a_parabola_with_closure():
    target = torch.tensor([1.0, -2.0, 3.0])
    w = torch.nn.Parameter(torch.zeros(3))
    opt = Lion([w], lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=300)

    def closure():
        opt.zero_grad()
        loss = ((w - target) ** 2).sum()
        loss.backward()
        return loss

    first = opt.step(closure).item()
    sched.step()
    for _ in range(299):
        last = opt.step(closure).item()
        sched.step()
    assert first > 10.0 and last < 1e-4
    torch.testing.assert_close(w.data, target, atol=1e-3, rtol=0)


@pytest.mark.parametrize("foreach", [False, True])
def test_state_dict_round_trip_mid_run_gives_the_identical_continuation(foreach):
    grads = gradient_stream(120)
    # Uninterrupted run.
    params = make_params()
    opt = Lion(params.values(), lr=1e-2, betas=(0.95, 0.98), weight_decay=0.3, foreach=foreach)
    full = run_torch(opt, params, grads)
    # Interrupted at step 50: save params and optimizer state, rebuild, continue.
    params = make_params()
    opt = Lion(params.values(), lr=1e-2, betas=(0.95, 0.98), weight_decay=0.3, foreach=foreach)
    run_torch(opt, params, grads, 0, 50)
    buffer = io.BytesIO()
    torch.save({"params": {k: v.detach() for k, v in params.items()},
                "opt": opt.state_dict()}, buffer)
    del opt, params
    buffer.seek(0)
    saved = torch.load(buffer)
    params = {k: torch.nn.Parameter(v.clone()) for k, v in saved["params"].items()}
    opt = Lion(params.values(), lr=0.5, betas=(0.5, 0.5), weight_decay=0.0, foreach=foreach)
    opt.load_state_dict(saved["opt"])
    assert opt.param_groups[0]["lr"] == 1e-2 and opt.param_groups[0]["betas"] == (0.95, 0.98)
    rest = run_torch(opt, params, grads, 50)
    for name in SHAPES:
        np.testing.assert_array_equal(rest[name], full[name][50:])


def test_state_is_one_momentum_tensor_per_parameter():
    params = make_params()
    params["frozen"] = torch.nn.Parameter(torch.ones(3))
    opt = Lion(params.values(), lr=1e-3)
    run_torch(opt, {k: v for k, v in params.items() if k != "frozen"}, gradient_stream(2))
    for name, p in params.items():
        if name == "frozen":
            assert p not in opt.state  # no grad, no state
            torch.testing.assert_close(p.data, torch.ones(3))
        else:
            assert set(opt.state[p]) == {"exp_avg"}
            assert opt.state[p]["exp_avg"].shape == p.shape
    state_bytes = sum(s["exp_avg"].numel() * s["exp_avg"].element_size()
                      for s in opt.state.values())
    param_bytes = sum(p.numel() * p.element_size() for k, p in params.items() if k != "frozen")
    assert state_bytes == param_bytes


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("foreach", [False, True])
def test_low_precision_params_keep_their_dtype(dtype, foreach):
    params = make_params(dtype=dtype)
    opt = Lion(params.values(), lr=1e-2, weight_decay=0.1, foreach=foreach)
    grads = gradient_stream(20)
    got = run_torch(opt, params, grads)
    # The jax version with the same storage dtype. Each rounds at slightly
    # different places, and a step of lr = 1e-2 is close to half a bfloat16 ulp
    # for |w| in [2, 4), so allow a few ulps there (max |w| is about 3).
    jax_dtype = {torch.bfloat16: jnp.bfloat16, torch.float16: jnp.float16}[dtype]
    start = make_params(dtype=dtype)
    ref = run_jax(lion(1e-2, weight_decay=0.1),
                  {k: jnp.asarray(v.detach().float().numpy(), jax_dtype) for k, v in start.items()},
                  {k: jnp.asarray(g, jax_dtype) for k, g in grads.items()})
    ulp_at_2 = {torch.bfloat16: 2 ** -6, torch.float16: 2 ** -9}[dtype]
    for name, p in params.items():
        assert p.dtype == dtype and opt.state[p]["exp_avg"].dtype == dtype
        assert np.max(np.abs(got[name])) < 4.0
        np.testing.assert_allclose(got[name], np.asarray(ref[name], np.float32),
                                   rtol=0, atol=3 * ulp_at_2)
        # Most entries agree exactly (about 90% here).
        assert np.mean(got[name] == np.asarray(ref[name], np.float32)) > 0.75


def test_sparse_gradients_are_rejected():
    emb = torch.nn.Embedding(10, 3, sparse=True)
    opt = Lion(emb.parameters(), lr=1e-3)
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()


# --------------------------------------------------------------------------
# Bad arguments.


@pytest.mark.parametrize("kwargs,message", [
    (dict(lr=-1e-3), "lr must be >= 0"),
    (dict(lr=float("nan")), "lr must be >= 0"),
    (dict(lr="fast"), "lr must be a number"),
    (dict(betas=(1.0, 0.99)), r"b1 must be \[0.0, 1.0\)"),
    (dict(betas=(0.9, -0.1)), r"b2 must be \[0.0, 1.0\)"),
    (dict(betas=0.9), "betas must be a pair"),
    (dict(betas=(0.9, 0.99, 0.999)), "betas must be a pair"),
    (dict(weight_decay=-0.1), "weight_decay must be >= 0"),
])
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Lion(make_params().values(), **kwargs)


def test_bad_group_override_is_rejected():
    params = make_params()
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        Lion([{"params": [params["w"]], "weight_decay": -1.0}], lr=1e-3)


def test_docstring_examples():
    import doctest

    import lion.torch

    result = doctest.testmod(lion.torch)
    assert result.attempted > 0 and result.failed == 0


def test_deepcopy_and_repr():
    opt = Lion(make_params().values(), lr=1e-3)
    clone = copy.deepcopy(opt)
    assert clone.param_groups[0]["lr"] == 1e-3
    assert "Lion" in repr(opt)
