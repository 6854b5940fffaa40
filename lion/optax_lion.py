"""The Lion optimizer as optax gradient transformations.

Lion (EvoLved Sign Momentum) was found by symbolic program search in Chen et al.,
"Symbolic Discovery of Optimization Algorithms" (2023, arXiv 2302.06675). Per
parameter tensor ``w`` with gradient ``g`` and momentum ``m`` it does::

    c = b1 * m + (1 - b1) * g             # interpolate momentum and gradient
    w = w - lr * (sign(c) + wd * w)       # sign step plus decoupled weight decay
    m = b2 * m + (1 - b2) * g             # momentum is a slower EMA of gradients

It keeps one state tensor per parameter (AdamW keeps two), so its optimizer
state is half of AdamW's, and a quarter with ``mu_dtype=jnp.bfloat16``.

This module depends on jax and optax only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = [
    "LionState",
    "ScaleByLionState",
    "lion",
    "scale_by_lion",
]

MaskOrFn = Optional[Union[Any, Callable[[optax.Params], Any]]]


class ScaleByLionState(NamedTuple):
    """State of :func:`scale_by_lion`: the momentum, shaped like the params."""

    mu: optax.Updates


class LionState(NamedTuple):
    """State of :func:`lion`.

    Attributes:
        mu: the momentum, a pytree shaped like the params (dtype ``mu_dtype``).
        count: the step count as an int32 scalar, kept only when the learning
            rate or the weight decay is a schedule; ``None`` otherwise, so that
            the state holds nothing but the momentum.
    """

    mu: optax.Updates
    count: Optional[jax.Array] = None


# --------------------------------------------------------------------------
# Argument checks.


def _known_value(name: str, value: Any) -> Optional[float]:
    """The value of a scalar hyperparameter if it is known now, else None.

    Python numbers and concrete arrays are known; tracers (e.g. hyperparameters
    injected by ``optax.inject_hyperparams`` inside ``jit``) are not.
    """
    if isinstance(value, jax.core.Tracer):
        return None
    if isinstance(value, bool):
        raise ValueError(f"lion: {name} must be a number, got the bool {value!r}.")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"lion: {name} must be a number, got {value!r}.") from exc
    if not (np.issubdtype(array.dtype, np.floating)
            or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"lion: {name} must be a number, got {value!r}.")
    if array.shape != ():
        raise ValueError(
            f"lion: {name} must be a real scalar, got an array of shape {array.shape}.")
    result = float(array)
    if not math.isfinite(result):
        raise ValueError(f"lion: {name} must be finite, got {result}.")
    return result


def _check_beta(name: str, value: Any) -> None:
    if callable(value):
        raise ValueError(f"lion: {name} must be a number in [0, 1), not a schedule.")
    known = _known_value(name, value)
    if known is not None and not 0.0 <= known < 1.0:
        raise ValueError(f"lion: {name} must be in [0, 1), got {known}.")


def _check_nonnegative(name: str, value: Any) -> None:
    """A number or a schedule; a number must be >= 0."""
    if callable(value):
        return
    known = _known_value(name, value)
    if known is not None and known < 0.0:
        raise ValueError(f"lion: {name} must be >= 0, got {known}.")


def _canonical_mu_dtype(mu_dtype: Any) -> Optional[jnp.dtype]:
    if mu_dtype is None:
        return None
    try:
        dtype = jnp.dtype(mu_dtype)
    except TypeError as exc:
        raise ValueError(
            f"lion: mu_dtype must be None or a floating dtype, got {mu_dtype!r}.") from exc
    if not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(f"lion: mu_dtype must be a floating dtype, got {dtype}.")
    return dtype


def _check_mask(mask: MaskOrFn) -> None:
    if mask is None or callable(mask):
        return
    for leaf in jax.tree.leaves(mask):
        if not isinstance(leaf, (bool, np.bool_)):
            raise ValueError(
                "lion: mask leaves must be Python bools (True: apply weight decay), "
                f"got {leaf!r}; the mask must be static to be used under jit.")


# --------------------------------------------------------------------------
# Helpers shared by the transformations.


def _zeros_like(params: optax.Params, dtype: Optional[jnp.dtype]):
    # jnp.zeros_like keeps the sharding of a concrete sharded array, and under
    # jit with explicit sharding it keeps the sharding of the traced one.
    return jax.tree.map(lambda p: jnp.zeros_like(p, dtype=dtype), params)


def _compute_dtype(*dtypes) -> jnp.dtype:
    """The dtype the arithmetic is done in: at least float32.

    Low-precision inputs are upcast inside the fused kernel and the results are
    rounded once when they are stored, which costs no memory traffic.
    """
    return jnp.result_type(jnp.float32, *dtypes)


# Below this b2 the reconstruction in _sign_and_momentum amplifies rounding.
_MIN_B2_FOR_REUSE = 0.5


def _reuses_new_momentum(b2: Any) -> bool:
    """Whether the sign may be computed from the updated momentum (see below)."""
    known = None if callable(b2) else _known_value("b2", b2)
    return known is not None and known >= _MIN_B2_FOR_REUSE


def _sign_and_momentum(g, m, b1, b2, reuse: bool):
    """``(sign(b1 * m + (1 - b1) * g), b2 * m + (1 - b2) * g)`` for one leaf.

    The sign comes in the compute dtype, the momentum in ``m``'s dtype.

    Why two ways: the interpolation ``c`` and the new momentum both read the old
    momentum. When the state is donated, XLA updates the momentum in place, so a
    kernel that reads the *old* momentum to compute the parameter update must run
    before it is overwritten; where XLA cannot fuse both outputs into one kernel
    (the CPU backend), it copies the whole momentum first, which made the step
    ~2x slower than AdamW's. AdamW does not hit this because its parameter update
    reads the *new* moments. So, when ``reuse`` is set, ``c`` is computed from
    the new momentum ``n = b2 * m + (1 - b2) * g``: algebraically,
    ``c = (b1 / b2) * n + ((1 - b1) - b1 * (1 - b2) / b2) * g``. Its rounding
    error is of the same size as that of the direct formula when the momentum is
    stored at full compute precision and ``b2`` is not small, which is when
    ``reuse`` is set; otherwise (e.g. bfloat16 momentum, whose rounding would
    enter ``c``) the direct formula is used.
    """
    dtype = _compute_dtype(g.dtype, m.dtype)
    g_c, m_c = g.astype(dtype), m.astype(dtype)
    new_m = ((1.0 - b2) * g_c + b2 * m_c).astype(m.dtype)
    if reuse and m.dtype == dtype:
        c = (b1 / b2) * new_m + ((1.0 - b1) - b1 * (1.0 - b2) / b2) * g_c
    else:
        c = (1.0 - b1) * g_c + b1 * m_c
    return jnp.sign(c), new_m


def _decay_flags(mask: MaskOrFn, params: optax.Params, treedef) -> list[bool]:
    """One Python bool per leaf of ``params``: apply weight decay there?"""
    if mask is None:
        return [True] * treedef.num_leaves
    mask_tree = mask(params) if callable(mask) else mask
    _check_mask(mask_tree)
    # The mask may be a prefix of the params tree: broadcast each of its leaves
    # over the subtree of params below it.
    full = jax.tree.map(
        lambda m, sub: jax.tree.map(lambda _: bool(m), sub), mask_tree, params)
    return treedef.flatten_up_to(full)


# --------------------------------------------------------------------------
# The transformations.


def scale_by_lion(
        b1: float = 0.9,
        b2: float = 0.99,
        mu_dtype: Optional[Any] = None,
) -> optax.GradientTransformation:
    """Replaces gradients by Lion's sign direction ``sign(b1 * m + (1 - b1) * g)``.

    The building block of :func:`lion`: it neither scales by a learning rate
    nor negates the direction, and applies no weight decay. Chain it with
    ``optax.add_decayed_weights`` and ``optax.scale_by_learning_rate`` to get
    the full optimizer (:func:`lion` does the same in one fused pass).

    Args:
        b1: interpolation factor between the momentum and the gradient used for
            the sign, in [0, 1).
        b2: decay rate of the momentum (an EMA of gradients), in [0, 1).
        mu_dtype: dtype of the momentum; ``None`` uses each parameter's dtype.
            ``jnp.bfloat16`` halves the state.

    Returns:
        An ``optax.GradientTransformation`` whose state is
        :class:`ScaleByLionState`.

    Example:
        >>> import jax.numpy as jnp
        >>> tx = scale_by_lion()
        >>> state = tx.init(jnp.zeros(3))
        >>> direction, state = tx.update(jnp.array([0.5, -2.0, 0.0]), state)
        >>> direction
        Array([ 1., -1.,  0.], dtype=float32)
    """
    _check_beta("b1", b1)
    _check_beta("b2", b2)
    mu_dtype = _canonical_mu_dtype(mu_dtype)
    reuse = _reuses_new_momentum(b2)

    def init_fn(params):
        return ScaleByLionState(mu=_zeros_like(params, mu_dtype))

    def update_fn(updates, state, params=None):
        del params

        def leaf(g, m):
            direction, new_m = _sign_and_momentum(g, m, b1, b2, reuse)
            return direction.astype(g.dtype), new_m

        flat_g, treedef = jax.tree.flatten(updates)
        flat_m = treedef.flatten_up_to(state.mu)
        out = [leaf(g, m) for g, m in zip(flat_g, flat_m)]
        new_updates = treedef.unflatten([d for d, _ in out])
        new_mu = treedef.unflatten([m for _, m in out])
        return new_updates, ScaleByLionState(mu=new_mu)

    return optax.GradientTransformation(init_fn, update_fn)


def lion(
        learning_rate: optax.ScalarOrSchedule,
        b1: float = 0.9,
        b2: float = 0.99,
        weight_decay: optax.ScalarOrSchedule = 0.0,
        mask: MaskOrFn = None,
        mu_dtype: Optional[Any] = None,
) -> optax.GradientTransformation:
    """The Lion optimizer (Chen et al., 2023), fused into one transformation.

    With ``g`` the gradient, ``m`` the momentum and ``w`` the parameter::

        c = b1 * m + (1 - b1) * g
        update = -learning_rate * (sign(c) + weight_decay * w)
        m = b2 * m + (1 - b2) * g

    and ``optax.apply_updates`` adds ``update`` to ``w``. The weight decay is
    decoupled (applied to the weight, not folded into the gradient) and scaled by
    the learning rate, as in the paper and in ``optax.lion``.

    Lion's update has a larger norm than AdamW's (every entry is +-lr), so use a
    learning rate 3-10x smaller than AdamW's and a weight decay 3-10x larger,
    keeping ``learning_rate * weight_decay`` about the same. For language models
    the paper uses ``b1=0.95, b2=0.98``.

    Args:
        learning_rate: a number >= 0 or a schedule (a function of the step count).
        b1: interpolation factor between the momentum and the gradient used for
            the sign, in [0, 1).
        b2: decay rate of the momentum, in [0, 1).
        weight_decay: a number >= 0 or a schedule. With a nonzero (or scheduled or
            injected) weight decay, ``update`` needs the ``params``.
        mask: where to apply weight decay: a pytree of Python bools with the
            structure of the params (or a prefix of it), or a function of the params
            returning one; ``True`` means decay. ``None`` decays every parameter.
        mu_dtype: dtype of the momentum; ``None`` uses each parameter's dtype.
            ``jnp.bfloat16`` halves the state. (Under ``optax.inject_hyperparams``
            pass it as a string, e.g. ``"bfloat16"``, or list it in ``static_args``:
            that wrapper takes every callable argument for a schedule.)

    Returns:
        An ``optax.GradientTransformation`` whose state is :class:`LionState`.
        Updates have the dtype of the gradients.

    Raises:
        ValueError: on an invalid hyperparameter.

    Example:
        >>> import jax, jax.numpy as jnp, optax
        >>> params = {"w": jnp.array([1.0, -2.0, 3.0])}
        >>> tx = lion(learning_rate=0.1, weight_decay=0.5)
        >>> state = tx.init(params)
        >>> grads = jax.grad(lambda p: jnp.sum(p["w"] ** 2))(params)
        >>> updates, state = tx.update(grads, state, params)
        >>> optax.apply_updates(params, updates)["w"]
        Array([ 0.85, -1.8 ,  2.75], dtype=float32)
    """
    _check_nonnegative("learning_rate", learning_rate)
    _check_beta("b1", b1)
    _check_beta("b2", b2)
    _check_nonnegative("weight_decay", weight_decay)
    _check_mask(mask)
    mu_dtype = _canonical_mu_dtype(mu_dtype)
    reuse = _reuses_new_momentum(b2)

    lr_is_schedule = callable(learning_rate)
    wd_is_schedule = callable(weight_decay)
    needs_count = lr_is_schedule or wd_is_schedule
    # Weight decay is skipped at trace time when it is a plain zero.
    no_decay = (not wd_is_schedule
                and not isinstance(weight_decay, jax.core.Tracer)
                and float(np.asarray(weight_decay)) == 0.0)

    def init_fn(params):
        count = jnp.zeros([], jnp.int32) if needs_count else None
        return LionState(mu=_zeros_like(params, mu_dtype), count=count)

    def update_fn(updates, state, params=None):
        lr = learning_rate(state.count) if lr_is_schedule else learning_rate
        wd = weight_decay(state.count) if wd_is_schedule else weight_decay

        flat_g, treedef = jax.tree.flatten(updates)
        flat_m = treedef.flatten_up_to(state.mu)
        if no_decay:
            flat_p = [None] * len(flat_g)
            flags = [False] * len(flat_g)
        else:
            if params is None:
                raise ValueError(
                    "lion: weight decay needs the params: call "
                    "update(grads, state, params). (Under optax.inject_hyperparams "
                    "the weight decay is an array even when it is 0.)")
            flat_p = treedef.flatten_up_to(params)
            flags = _decay_flags(mask, params, treedef)

        def leaf(g, m, p, decay):
            step, new_m = _sign_and_momentum(g, m, b1, b2, reuse)
            if decay:
                step = step + wd * p.astype(step.dtype)
            return (-lr * step).astype(g.dtype), new_m

        out = [leaf(*args) for args in zip(flat_g, flat_m, flat_p, flags)]
        new_updates = treedef.unflatten([u for u, _ in out])
        new_mu = treedef.unflatten([m for _, m in out])
        count = optax.safe_increment(state.count) if needs_count else None
        return new_updates, LionState(mu=new_mu, count=count)

    return optax.GradientTransformation(init_fn, update_fn)
