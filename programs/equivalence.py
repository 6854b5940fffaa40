"""Is a rewritten program the same optimizer? funcsim equality, and where it rests on eps.

A rewrite is accepted when the rewritten program is *funcsim-equal* to the original: the
same :func:`programs.funcsim.fingerprint` (its update sequence on funcsim's fixed streams,
rounded). funcsim runs with a safe-division epsilon of 1e-30, so a rewrite that is exact
only up to the epsilon (``m / sqrt(m * m)`` -> ``sign(m)``: ``m / (|m| + eps)`` is not
quite ``sign(m)``) passes. To say so honestly, both programs are also run with a large
probe epsilon (:data:`PROBE_EPS`): if they still agree there, the rewrite does not depend
on the epsilon at all; if they do not, the verdict says "equal up to the safe-division
epsilon".

funcsim rounds (its fingerprint must not see the order of a sum), so a rewrite that moves
a constant by 1e-4 can keep the fingerprint; the updates are therefore also compared
unrounded, each program run in full (dead code included, independent of
``remove_redundancy``), at a relative tolerance of 1e-9, and so are the final values of
the state slots both programs read, up to a factor per slot (a rewrite may rescale a
state): Lion's update is a sign, so a nudged ``b2`` changes its momentum long before it
flips a sign of the update.

Example:
    >>> from programs.parser import parse
    >>> a = parse("def train(w, g, m, lr):\\n    m = interp(g, m, 0.9)\\n"
    ...           "    r = abs(m)\\n    u = m / r\\n    return u, m")
    >>> b = parse("def train(w, g, m, lr):\\n    m = interp(g, m, 0.9)\\n"
    ...           "    u = sign(m)\\n    return u, m")
    >>> compare(a, b).verdict
    'funcsim-equal up to the safe-division epsilon'
    >>> compare(b, b).verdict
    'funcsim-equal'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dataflow import liveness
from .executor import Executor, Stacked
from .funcsim import FUNCSIM_EPS, behaviour, behaviour_similarity, streams
from .program import Program

PROBE_EPS = 1e-4
"""The epsilon of the second run: large enough that any dependence on it shows."""

SAFE_DIVISION_OPS = frozenset({"div", "reciprocal", "cosine_sim"})


@dataclass(frozen=True)
class Equivalence:
    """The verdict on a rewrite.

    Attributes:
        equal: the fingerprints match.
        similarity: funcsim similarity, in [0, 1].
        relies_on_eps: equal only because funcsim's epsilon is tiny.
    """

    equal: bool
    similarity: float
    relies_on_eps: bool = False
    only_rounded: bool = False  # the rounded fingerprints match, the updates do not

    @property
    def verdict(self) -> str:
        if self.only_rounded:
            return "not funcsim-equal (the same rounded, different at full precision)"
        if not self.equal:
            return f"not funcsim-equal (similarity {self.similarity:.4f})"
        if self.relies_on_eps:
            return "funcsim-equal up to the safe-division epsilon"
        return "funcsim-equal"


def compare(before: Program, after: Program) -> Equivalence:
    """Whether ``after`` behaves as ``before`` (see the module docstring)."""
    similarity = behaviour_similarity(behaviour(before), behaviour(after))
    if similarity < 1.0:
        return Equivalence(False, similarity)
    if not _agree(before, after, FUNCSIM_EPS):
        return Equivalence(False, 1.0, only_rounded=True)
    divides = any(s.op in SAFE_DIVISION_OPS for p in (before, after) for s in p.statements)
    return Equivalence(True, 1.0, divides and not _agree(before, after, PROBE_EPS))


def _agree(a: Program, b: Program, eps: float) -> bool:
    """Both programs, run in full at ``eps``, give the same updates and the same final
    state in every slot both read (rtol 1e-9)."""
    weights, grads, lrs = streams()
    runs, states = [], []
    for program in (a, b):
        executor = Executor(program, np.float64, Stacked(eps=eps))
        updates, state = executor.run(weights, grads, lrs)
        runs.append(np.stack([np.broadcast_to(u, grads.shape[1:]) for u in updates]))
        states.append(state)
    read = liveness(a).live_slots & liveness(b).live_slots
    return _same(*runs) and all(
        _same(*_scaled_alike(np.broadcast_to(states[0][k], grads.shape[1:]),
                             np.broadcast_to(states[1][k], grads.shape[1:]))) for k in read)


def _scaled_alike(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x * k, y)`` for the least-squares factor ``k``: a rewrite may keep a slot at
    another scale (``m = 0.99 m + g`` is Lion's EMA times 100) and be the same optimizer.

    >>> _scaled_alike(np.array([1.0, 2.0]), np.array([-3.0, -6.0]))[0]
    array([-3., -6.])
    """
    finite = np.isfinite(x) & np.isfinite(y)
    norm = float(np.dot(x[finite], x[finite]))
    if norm == 0.0 or not np.isfinite(norm):
        return x, y
    return x * (float(np.dot(x[finite], y[finite])) / norm), y


def _same(x: np.ndarray, y: np.ndarray) -> bool:
    same_special = np.array_equal(np.isnan(x), np.isnan(y)) and \
        np.array_equal(np.where(np.isinf(x), x, 0), np.where(np.isinf(y), y, 0))
    finite = np.isfinite(x) & np.isfinite(y)
    close = np.allclose(x[finite], y[finite], rtol=1e-9, atol=1e-300)
    return bool(same_special and close)
