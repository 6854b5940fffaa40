"""funcsim: the behavioural identity of a program.

A program is run by the numpy executor on fixed, seeded streams of weights, gradients
and schedule values, carrying its state, and the sequence of updates it returns *is* its
behaviour. :func:`fingerprint` hashes that sequence rounded to a few significant digits;
:func:`similarity` is the share of update values that agree after that rounding (1.0
exactly when the fingerprints match). Programs that compute the same thing differently
(``a + b`` and ``b + a``, ``m / sqrt(m * m)`` and ``sign(m)``, state renamed or in
another slot, dead code) share a fingerprint; the structural hash cannot see that.

The streams: 3 independent problems at gradient scales 0.1, 1 and 10, each with 2
parameter tensors of 16 elements (so ``norm`` and ``global_norm`` differ), over 8 steps.
Gradients mix elements of steady sign (where momentum matters) with elements whose sign
flips (where the rate of an EMA matters); schedule values decay from 1.

Numbers: float64, with a safe-division epsilon of 1e-30 instead of 1e-8, so that two
programs equal up to that epsilon (``m / sqrt(m * m)`` and ``sign(m)``) are equal here;
rounding keeps 12 significant bits (about 3.6 decimal digits). Non-finite values are
part of the behaviour (all NaNs alike), so a program that blows up gets a fingerprint
like any other.

**Scale-free.** When the fitness tunes each program's step size, programs whose updates
differ only by a constant positive factor (``lr * 0.001`` against ``lr * 0.004``) score
the same, so they share one evaluation: :func:`scale_free_fingerprint` hashes the update
sequence divided by its root mean square, and returns that scale too (a twin's best
multiplier is the other's times the ratio of their scales). A negative factor is another
behaviour (an ascent is not a descent).

Example:
    >>> from programs.parser import parse
    >>> a = parse("def train(w, g, m, lr):\\n    m = interp(g, m, 0.9)\\n"
    ...           "    m2 = m * m\\n    r = sqrt(m2)\\n    u = m / r\\n    return u, m")
    >>> b = parse("def train(w, g, m, lr):\\n    x = g * 0.1\\n    y = m * 0.9\\n"
    ...           "    m = x + y\\n    u = sign(m)\\n    return u, m")
    >>> fingerprint(a) == fingerprint(b), similarity(a, b)
    (True, 1.0)
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

from .dataflow import remove_redundancy
from .executor import Executor, Stacked
from .program import Program

STEPS = 8
SCALES = (0.1, 1.0, 10.0)
TENSORS_PER_PROBLEM = 2
ELEMENTS = 16
SIGNIFICANT_BITS = 12
FUNCSIM_EPS = 1e-30
STREAM_SEED = 20230213

_CONTEXT = Stacked(eps=FUNCSIM_EPS)
_DROP = 52 - SIGNIFICANT_BITS
_HALF = np.uint64(1 << (_DROP - 1))
_KEEP = np.uint64(~((1 << _DROP) - 1) & 0xFFFFFFFFFFFFFFFF)
_NAN = np.uint64(0x7FF8000000000000)


@functools.cache
def streams() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fixed input streams ``(weights, grads, lrs)``.

    Shapes: weights and grads ``(STEPS, problems, tensors, elements)``, lrs
    ``(STEPS, problems, 1, 1)``. Read-only.
    """
    rng = np.random.default_rng(STREAM_SEED)
    shape = (len(SCALES), TENSORS_PER_PROBLEM, ELEMENTS)
    scale = np.asarray(SCALES).reshape(-1, 1, 1)
    magnitude = np.exp(rng.uniform(np.log(0.1), np.log(3.0), size=(STEPS, *shape)))
    steady_sign = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    flips = np.where(rng.random((STEPS, *shape)) < 0.35, -1.0, 1.0)
    steady = rng.random(shape) < 0.5  # half of the elements never flip
    sign = steady_sign * np.where(steady, 1.0, flips)
    grads = scale * magnitude * sign
    w0 = rng.normal(size=shape)
    drift = np.cumsum(rng.normal(scale=0.05, size=(STEPS, *shape)), axis=0)
    weights = w0 + drift
    t = np.arange(STEPS).reshape(-1, 1, 1, 1)
    peak = np.asarray([1.0, 0.5, 0.2]).reshape(1, -1, 1, 1)
    lrs = peak * 0.5 * (1.0 + np.cos(np.pi * t / STEPS))
    for array in (weights, grads, lrs):
        array.setflags(write=False)
    return weights, grads, lrs


def behaviour(program: Program) -> np.ndarray:
    """The program's update sequence on the streams, rounded: ``uint64`` bit patterns.

    Shape ``(STEPS, problems, tensors, elements)``; equal entries mean equal values
    after rounding to ``SIGNIFICANT_BITS`` bits.
    """
    return _round_bits(updates(program))


def updates(program: Program) -> np.ndarray:
    """The program's update sequence on the streams, float64, not rounded."""
    weights, grads, lrs = streams()
    # Dead code cannot change the updates; not running it halves the cost.
    executor = Executor(remove_redundancy(program), dtype=np.float64, context=_CONTEXT)
    values, _ = executor.run(weights, grads, lrs)
    return np.stack(values)


def update_scale(values: np.ndarray) -> float:
    """The root mean square of the finite values (1.0 if there are none or all are 0).

    >>> update_scale(np.array([3.0, -4.0, np.nan])), update_scale(np.zeros(3))
    (3.5355339059327378, 1.0)
    >>> update_scale(np.array([1e300, -1e300])) == 1e300
    True
    """
    finite = np.abs(values[np.isfinite(values)])
    peak = float(finite.max()) if finite.size else 0.0
    if not peak > 0:
        return 1.0
    scale = peak * float(np.sqrt(np.mean((finite / peak) ** 2)))  # no overflow near 1e308
    return scale if scale > 0 and np.isfinite(scale) else 1.0


def scale_free_fingerprint(program: Program) -> tuple[str, float]:
    """``(fingerprint of the updates divided by their scale, the scale)``.

    Programs whose updates differ by a constant positive factor share the fingerprint;
    their scales are in the ratio of that factor.

    >>> from programs.parser import parse
    >>> slow = parse("def train(w, g, lr):\\n    u = g * 0.001\\n    return u")
    >>> fast = parse("def train(w, g, lr):\\n    u = g * 0.004\\n    return u")
    >>> (a, sa), (b, sb) = scale_free_fingerprint(slow), scale_free_fingerprint(fast)
    >>> a == b, round(sb / sa, 6), fingerprint(slow) == fingerprint(fast)
    (True, 4.0, False)
    """
    values = updates(program)
    scale = update_scale(values)
    return _digest(_round_bits(values / scale)), scale


def _round_bits(values: np.ndarray) -> np.ndarray:
    values = values + 0.0  # -0.0 -> 0.0
    finite = np.isfinite(values)
    bits = np.where(finite, values, 0.0).view(np.uint64)
    rounded = (bits + _HALF) & _KEEP
    special = np.where(np.isnan(values), 0.0, values).view(np.uint64)  # +-inf keep bits
    special = np.where(np.isnan(values), _NAN, special)
    return np.where(finite, rounded, special)


def fingerprint(program: Program) -> str:
    """Hex digest of the program's rounded update sequence."""
    return _digest(behaviour(program))


def _digest(rounded: np.ndarray) -> str:
    return hashlib.blake2b(rounded.tobytes(), digest_size=16).hexdigest()


def similarity(a: Program, b: Program) -> float:
    """Share of rounded update values on which ``a`` and ``b`` agree, in [0, 1].

    1.0 exactly when the fingerprints match.
    """
    return behaviour_similarity(behaviour(a), behaviour(b))


def behaviour_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """:func:`similarity` of two precomputed :func:`behaviour` arrays."""
    if _digest(a) == _digest(b):
        return 1.0
    return float(np.mean(a == b))
