"""Proxy tasks, the schedule and the generic training loop (evaluators.tasks, .training)."""

import dataclasses
import doctest
import importlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from evaluators.tasks import (FAMILIES, SIZE_NAMES, SUITES, get_suite, get_task, task_config,
                              task_names, warmup_cosine)
from evaluators.tasks import stdlib_text
from evaluators.training import final_val_loss, from_optax, run_training, train

NAMES = task_names()
# A small MLP for the tests of the loop itself: quick to compile and to run.
SMALL = dict(hidden=16, train_size=256, val_size=256, steps=20, warmup=2)


def adamw(lr=1e-2, wd=0.01):
    return from_optax(optax.adamw(lr, weight_decay=wd))


def test_registry_lists_the_three_families():
    assert set(NAMES) >= {"mlp", "vit", "charlm"}
    for name in NAMES:
        assert set(FAMILIES[name].sizes) == set(SIZE_NAMES)


def test_mnist1d_data_is_made_locally_and_leaves_global_random_state_alone():
    import random

    from evaluators.tasks.mnist1d import SIZES, make_data

    config = dataclasses.replace(SIZES["proxy"], samples=200)
    numpy_before, python_before = np.random.get_state()[1].copy(), random.getstate()
    (x, y), (x_val, y_val) = make_data(config)
    assert x.shape == (config.train_size, 40) and x_val.shape == (40, 40)
    assert set(np.unique(y)) == set(range(10))
    np.testing.assert_array_equal(make_data(config)[0][0], x)   # deterministic
    assert (np.random.get_state()[1] == numpy_before).all() and random.getstate() == python_before


def test_unknown_task_size_or_setting_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown task 'resnet'; registered tasks: .*vit"):
        get_task("resnet")
    with pytest.raises(ValueError, match=r"unknown size 'huge' for task 'vit'.*meta10"):
        get_task("vit", size="huge")
    with pytest.raises(ValueError, match=r"unknown setting\(s\) depthh for task 'mlp'"):
        get_task("mlp", depthh=3)
    with pytest.raises(ValueError, match="unknown suite"):
        get_suite("tpu")


def test_get_task_returns_one_object_per_arguments():
    assert get_task("mlp") is get_task("mlp", "proxy")
    assert get_task("mlp", steps=10) is not get_task("mlp")
    assert get_task("mlp", steps=10).steps == 10


def test_suites_name_registered_tasks():
    for suite, pairs in SUITES.items():
        assert pairs, suite
        for name, size in pairs:
            task_config(name, size)          # raises if unknown


@pytest.mark.parametrize("name", NAMES)
def test_task_is_deterministic(name):
    config = task_config(name, "proxy")
    first, second = (FAMILIES[name].build(config, "proxy") for _ in range(2))  # fresh data
    key = jax.random.PRNGKey(3)

    @jax.jit
    def probe(step):           # traced once per task: the tasks' data are closed over
        out = []
        for task in (first, second):
            params = task.init(key)
            batch = task.batch(key, step)
            out.append((params, batch, task.loss(params, batch), task.val_loss(params)))
        return out

    (p1, b1, l1, v1), (p2, b2, l2, v2) = probe(5)
    assert all(a.dtype == jnp.float32 for a in jax.tree.leaves(p1))
    jax.tree.map(np.testing.assert_array_equal, (p1, b1, l1, v1), (p2, b2, l2, v2))
    b6 = probe(6)[0][1]
    assert not all(bool(jnp.array_equal(a, b)) for a, b in zip(jax.tree.leaves(b1),
                                                               jax.tree.leaves(b6)))
    assert np.isfinite(float(v1)) and np.isfinite(float(l1))


def test_task_functions_jit_and_vmap_over_keys():
    task = get_task("vit")
    keys = jax.random.split(jax.random.PRNGKey(0), 3)

    @jax.jit
    def losses(keys):
        batches = jax.vmap(task.batch, in_axes=(0, None))(keys, 2)
        return jax.vmap(task.loss)(jax.vmap(task.init)(keys), batches)

    losses = losses(keys)
    assert losses.shape == (3,) and bool(jnp.all(jnp.isfinite(losses)))


def test_charlm_validation_files_are_held_out():
    train_files, val_files = stdlib_text.split_files()
    assert val_files and train_files
    assert not set(train_files) & set(val_files)
    config = task_config("charlm")
    train, val = stdlib_text.load_corpus(config.train_bytes, config.val_bytes)
    train_text = b"".join(f.read_bytes() for f in train_files)[: config.train_bytes]
    val_text = b"".join(f.read_bytes() for f in val_files)[: config.val_bytes]
    expected = np.minimum(np.frombuffer(train_text, np.uint8), stdlib_text.VOCAB - 1)
    np.testing.assert_array_equal(train, expected)
    np.testing.assert_array_equal(
        val, np.minimum(np.frombuffer(val_text, np.uint8), stdlib_text.VOCAB - 1))


def test_schedule_warms_up_then_decays_by_cosine():
    steps, warmup = 100, 10
    s = np.array([float(warmup_cosine(i, steps, warmup)) for i in range(steps)])
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(s[:warmup], np.arange(1, warmup + 1) / warmup, rtol=1e-6)
    assert np.all(np.diff(s[:warmup]) > 0) and np.all(np.diff(s[warmup:]) <= 0)
    mid = warmup + (steps - warmup) // 2
    np.testing.assert_allclose(s[mid], 0.5, atol=1e-6)
    assert s[-1] < 0.01
    task = get_task("mlp")
    assert float(task.schedule(task.warmup - 1)) == 1.0


@pytest.mark.parametrize("name", NAMES)
def test_adamw_through_the_loop_lowers_the_loss(name):
    task = get_task(name, steps=40, warmup=4)

    @jax.jit
    def before_and_after(seed):
        key_init, _ = jax.random.split(jax.random.PRNGKey(seed))
        return task.val_loss(task.init(key_init)), *run_training(task, *adamw(), seed)

    before, after, losses = before_and_after(0)
    assert losses.shape == (40,)
    assert float(after) < float(before) - 0.05
    assert float(losses[-5:].mean()) < float(losses[:5].mean()) - 0.05


def test_optax_updates_are_negated_and_scheduled():
    task = get_task("mlp", **SMALL)
    sgd = from_optax(optax.sgd(0.1))

    def by_hand(grads, state, params, lr):          # the program convention: w -= update
        return jax.tree.map(lambda g: 0.1 * lr * g, grads), state

    ours = float(jax.jit(lambda s: final_val_loss(task, *sgd, s))(1))
    theirs = float(jax.jit(lambda s: final_val_loss(task, by_hand, lambda p: (), s))(1))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_nonfinite_update_gives_nonfinite_loss_not_an_exception():
    task = get_task("mlp", **SMALL)

    def blow_up(grads, state, params, lr):
        return jax.tree.map(lambda g: g / 0.0, grads), state

    loss = train(task, blow_up, lambda p: (), 0)
    assert not np.isfinite(float(loss))

    def huge(grads, state, params, lr):             # finite updates, overflowing loss
        return jax.tree.map(lambda g: 1e30 * jnp.sign(g), grads), state

    assert not np.isfinite(float(train(task, huge, lambda p: (), 0)))


def test_vmap_over_seeds_equals_the_loop():
    task = get_task("mlp", **SMALL)
    update_fn, init_state_fn = adamw()
    seeds = jnp.arange(4)
    batched = jax.jit(jax.vmap(lambda s: final_val_loss(task, update_fn, init_state_fn, s)))
    looped = [float(train(task, update_fn, init_state_fn, int(s))) for s in seeds]
    np.testing.assert_allclose(np.asarray(batched(seeds)), looped, rtol=1e-5)
    assert len(set(looped)) == 4                    # seeds differ


@pytest.mark.parametrize("module", ["schedule", "task", "registry", "transformer", "mlp",
                                    "stdlib_text", "reparam", "vit", "charlm", "mnist1d"])
def test_docstring_examples(module):
    mod = importlib.import_module(f"evaluators.tasks.{module}")
    assert doctest.testmod(mod).failed == 0
