"""Is a rewritten program the same optimizer? funcsim equality, and where it rests on eps.

A rewrite is accepted when the rewritten program is *funcsim-equal* to the original: the
same :func:`programs.funcsim.fingerprint` (its update sequence on funcsim's fixed streams,
rounded). funcsim runs with a safe-division epsilon of 1e-30, so a rewrite that is exact
only up to the epsilon (``m / sqrt(m * m)`` -> ``sign(m)``: ``m / (|m| + eps)`` is not
quite ``sign(m)``) passes. To say so honestly, both programs are also run with a large
probe epsilon (:data:`PROBE_EPS`): if they still agree there, the rewrite does not depend
on the epsilon at all; if they do not, the verdict says "equal up to the safe-division
epsilon".

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

from .executor import Executor, Stacked
from .funcsim import behaviour, behaviour_similarity, streams
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

    @property
    def verdict(self) -> str:
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
    divides = any(s.op in SAFE_DIVISION_OPS for p in (before, after) for s in p.statements)
    return Equivalence(True, 1.0, divides and not _agree_at_probe_eps(before, after))


def _agree_at_probe_eps(a: Program, b: Program) -> bool:
    weights, grads, lrs = streams()
    runs = []
    for program in (a, b):
        executor = Executor(program, np.float64, Stacked(eps=PROBE_EPS))
        updates, _ = executor.run(weights, grads, lrs)
        runs.append(np.stack([np.broadcast_to(u, grads.shape[1:]) for u in updates]))
    x, y = runs
    same_special = np.array_equal(np.isnan(x), np.isnan(y)) and \
        np.array_equal(np.where(np.isinf(x), x, 0), np.where(np.isinf(y), y, 0))
    finite = np.isfinite(x) & np.isfinite(y)
    close = np.allclose(x[finite], y[finite], rtol=1e-9, atol=1e-300)
    return bool(same_special and close)
