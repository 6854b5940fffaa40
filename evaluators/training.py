"""The generic training loop: one ``lax.scan`` over a task's steps, pure JAX.

An optimizer is a pair of pure functions:

* ``init_state_fn(params) -> state``
* ``update_fn(grads, state, params, lr) -> (updates, new_state)``, where ``lr`` is the
  task's schedule value (in ``[0, 1]``) and the loop does ``params <- params - updates``
  (the update is *subtracted*, as in an optimizer program's ``w = w - update``).

``run_training`` and ``final_val_loss`` are not jitted, so they can sit inside a caller's
own ``jit``/``vmap`` (over seeds, over hyperparameters, over a batch of encoded
programs); ``train`` is the jitted convenience for one run. A run whose training loss is
ever non-finite returns NaN as its validation loss; nothing raises.

Example:
    >>> import optax
    >>> from evaluators.tasks import get_task
    >>> task = get_task("mlp")
    >>> update_fn, init_state_fn = from_optax(optax.adamw(1e-3, weight_decay=0.01))
    >>> bool(train(task, update_fn, init_state_fn, seed=0) < 2.0)
    True
"""

from functools import partial

import jax
import jax.numpy as jnp


def sign_flips(params, seed):
    """A random sign (+1 or -1) per parameter coordinate, drawn from ``seed``.

    >>> flips = sign_flips({"w": jnp.zeros(1000)}, 0)["w"]
    >>> sorted(set(flips.tolist())), bool(abs(float(flips.mean())) < 0.1)
    ([-1.0, 1.0], True)
    """
    key = jax.random.fold_in(jax.random.PRNGKey(seed), 0x5191)
    leaves, treedef = jax.tree.flatten(params)
    keys = jax.random.split(key, len(leaves))
    return jax.tree.unflatten(treedef, [
        jax.random.rademacher(k, leaf.shape, jnp.float32).astype(leaf.dtype)
        for k, leaf in zip(keys, leaves)])


GRADIENT_SCALE_OCTAVES = 6
"""How far :func:`gradient_scales` reach: ``2 ** -6 .. 2 ** 6``."""


def gradient_scales(params, seed):
    """A power of two per parameter tensor, ``2 ** -6 .. 2 ** 6`` (log-uniform), drawn
    from ``seed``: the scale the optimizer sees each tensor's gradient at, when scaled
    (see :func:`run_training`).

    >>> scales = gradient_scales({"a": jnp.zeros(3), "b": jnp.zeros(2), "c": 0.0}, 0)
    >>> sorted(scales), all(float(jnp.log2(x)) % 1 == 0 for x in scales.values())
    (['a', 'b', 'c'], True)
    """
    key = jax.random.fold_in(jax.random.PRNGKey(seed), 0x5CA1E)
    leaves, treedef = jax.tree.flatten(params)
    exponents = jax.random.randint(key, (len(leaves),), -GRADIENT_SCALE_OCTAVES,
                                   GRADIENT_SCALE_OCTAVES + 1)
    scales = jnp.exp2(exponents.astype(jnp.float32))
    return jax.tree.unflatten(treedef, [scales[i] for i in range(len(leaves))])


def run_training(task, update_fn, init_state_fn, seed, flip_signs: bool = False,
                 scale_gradients: bool = False):
    """Train once; return ``(final validation loss, training loss per step)``.

    The seed (a Python int or a traced integer) makes two keys: one initialises the
    parameters, the other names the data stream, so optimizers compared on the same seed
    start from the same weights and see the same batches.

    ``flip_signs``: the optimizer sees the parameters in coordinates whose signs are
    flipped at random (:func:`sign_flips`, per seed): it is given ``D w`` and ``D g``
    and its update ``u`` moves the parameters by ``D u``. An optimizer that commutes with
    sign flips (``u(-w, -g, -s) = -u(w, g, s)``: SGD, Adam, Lion, every odd elementwise
    update) trains as without them (bit for bit for Lion and AdamW; others can differ in
    float rounding where XLA fuses the flips into their arithmetic); one that does not (a
    constant drift, ``log |g|``) can no longer exploit which sign a task's parameters
    prefer.

    ``scale_gradients``: the optimizer sees each parameter tensor's gradient times its
    own power of two, drawn from the seed (:func:`gradient_scales`), as layers of other
    parametrizations would give. An elementwise optimizer invariant to the gradient's
    scale (Lion, signum, Adam up to its epsilon) trains as without it (a power of two
    scales floats exactly); one that mixes scales (``sign(m) + c g``) meets a different
    mixture in every layer of every run and no one multiplier suits them all.
    """
    k_init, k_data = jax.random.split(jax.random.PRNGKey(seed))
    params = task.init(k_init)
    flips = sign_flips(params, seed) if flip_signs else None
    scales = gradient_scales(params, seed) if scale_gradients else None

    def flipped(tree):
        return tree if flips is None else jax.tree.map(lambda d, x: d * x, flips, tree)

    def step(carry, i):
        params, state, finite = carry
        loss, grads = jax.value_and_grad(task.loss)(params, task.batch(k_data, i))
        seen = grads if scales is None else jax.tree.map(lambda c, x: c * x, scales, grads)
        updates, state = update_fn(flipped(seen), state, flipped(params), task.schedule(i))
        updates = flipped(updates)
        params = jax.tree.map(lambda p, u: (p - u).astype(p.dtype), params, updates)
        return (params, state, finite & jnp.isfinite(loss)), loss

    carry = (params, init_state_fn(params), jnp.bool_(True))
    (params, _, finite), losses = jax.lax.scan(step, carry, jnp.arange(task.steps))
    val = task.val_loss(params)
    return jnp.where(finite, val, jnp.nan), losses


def final_val_loss(task, update_fn, init_state_fn, seed, flip_signs: bool = False,
                   scale_gradients: bool = False):
    """The validation loss after training (NaN if any training loss was non-finite)."""
    return run_training(task, update_fn, init_state_fn, seed, flip_signs,
                        scale_gradients)[0]


@partial(jax.jit, static_argnums=(0, 1, 2))
def train(task, update_fn, init_state_fn, seed):
    """Jitted ``final_val_loss``; compiled once per (task, update_fn, init_state_fn).

    The functions are static arguments, hashed by identity: pass the same function
    objects to reuse the compiled loop. Vmappable over ``seed``.
    """
    return final_val_loss(task, update_fn, init_state_fn, seed)


def from_optax(tx):
    """``(update_fn, init_state_fn)`` running an optax ``GradientTransformation``.

    Optax updates are *added* to the parameters, so they are negated here; they are also
    multiplied by the schedule value, which for optax's optimizers (whose last step is
    ``scale_by_learning_rate``) is the same as scheduling their learning rate.
    """

    def update_fn(grads, state, params, lr):
        updates, state = tx.update(grads, state, params)
        return jax.tree.map(lambda u: -lr * u, updates), state

    return update_fn, tx.init
