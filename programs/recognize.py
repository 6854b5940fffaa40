"""Is this program Lion? The Lion-family recogniser, with the fitted constants.

**Definition.** A program is *Lion-family* when it is funcsim-equal to the canonical
Lion program with some constants ``b1, b2, weight_decay, lr_scale``::

    def train(w, g, m, lr):
        c = interp(g, m, b1)                  # (1 - b1) * g + b1 * m
        update = sign(c)
        decay = w * weight_decay
        update = update + decay
        step_size = lr * lr_scale
        update = update * step_size
        m = interp(g, m, b2)                  # the momentum: an EMA of g with rate b2
        return update, m

with ``0 < b1 < 1``, ``0 < b2 < 1``, ``b1 != b2``, ``weight_decay >= 0`` and
``lr_scale > 0``. The weight decay is decoupled (added after the sign) and scaled by the
schedule like the sign step, as in the paper and in ``lion.lion``.

``b1 == b2`` (within :data:`SAME_RATE`, relative) is **signum**, not Lion: the sign is
then taken of the very EMA that is stored (one EMA for both), which is the paper's
ablation, so it is rejected. ``b1 = 0`` is signSGD (the momentum is never read), and
``b1 = 1`` the sign of last step's momentum; both are rejected too.

**How.** Dead code and dead slots are removed; the outputs become sympy expressions in
canonical form (:mod:`programs.algebra`: ``m / sqrt(m * m)`` is ``sign(m)``, split and
chained interps are one linear combination, so ``interp(g, interp(g, m, 0.9), 1.1)`` is
``interp(g, m, 0.99)``); slots carrying the same quantity are merged
(:mod:`programs.state_space`). Then exactly one state slot must remain, updated as
``s' = b2 * s + k * g`` (any ``k != 0``: the slot may hold a scaled EMA, such as
heavy-ball momentum ``s' = 0.9 s + g``), and the update must be
``a * lr * sign(alpha * g + beta * s) + d * lr * w``. The constants follow from those
numbers; finally the canonical Lion with the fitted constants must be funcsim-equal to
the program, or there is no match.

Example:
    >>> from programs.seed_programs import load_seed
    >>> recognize_lion(load_seed("lion"))
    LionMatch(b1=0.9, b2=0.99, weight_decay=0.1, lr_scale=0.0001)
    >>> recognize_lion(load_seed("signum")) is None, recognize_lion(load_seed("adamw")) is None
    (True, True)

Programs that carry Lion's core with extras around it are recognised by
:mod:`programs.lion_core`, which also holds :func:`~programs.lion_core.is_lion_family`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import sympy

from .algebra import DIGITS, G, LR, W, canonical, canonicalize, linear_form, to_sympy, \
    tree_size
from .funcsim import fingerprint
from .kinds import is_valid
from .parser import parse
from .program import Program
from .simplify import without_dead_slots
from .state_space import reduce_slots

SAME_RATE = 1e-6
"""``b1`` and ``b2`` closer than this (relative) make signum, not Lion."""

_QUICK_OPS = frozenset({"sign", "div", "reciprocal"})


@dataclass(frozen=True)
class LionMatch:
    """The constants of a Lion-family program (see the module docstring).

    Attributes:
        b1: the interpolation weight of the momentum in the sign's argument.
        b2: the momentum's EMA rate.
        weight_decay: the decoupled weight decay (relative to the sign step).
        lr_scale: the step size per unit of the schedule value ``lr``.
    """

    b1: float
    b2: float
    weight_decay: float
    lr_scale: float

    def as_dict(self) -> dict:
        return asdict(self)

    def program(self) -> Program:
        """The canonical Lion program with these constants."""
        return canonical_lion(self.b1, self.b2, self.weight_decay, self.lr_scale)


def canonical_lion(b1: float, b2: float, weight_decay: float = 0.0,
                   lr_scale: float = 1.0) -> Program:
    """The canonical Lion program (the module docstring's) with these constants.

    Example:
        >>> from programs.printer import to_source
        >>> print(to_source(canonical_lion(0.9, 0.99, 0.1, 1e-4)))
        def train(w, g, momentum, lr):
            blend = interp(g, momentum, 0.9)
            direction = sign(blend)
            decay = w * 0.1
            step = direction + decay
            step_size = lr * 0.0001
            update = step * step_size
            momentum = interp(g, momentum, 0.99)
            return update, momentum
    """
    return parse(
        "def train(w, g, momentum, lr):\n"
        f"    blend = interp(g, momentum, {float(b1)!r})\n"
        "    direction = sign(blend)\n"
        f"    decay = w * {float(weight_decay)!r}\n"
        "    step = direction + decay\n"
        f"    step_size = lr * {float(lr_scale)!r}\n"
        "    update = step * step_size\n"
        f"    momentum = interp(g, momentum, {float(b2)!r})\n"
        "    return update, momentum\n")


def sign_candidate(program: Program) -> Program | None:
    """``program`` without dead code and dead slots when it could take a sign of a state
    (valid, a live slot, a sign or a quotient), else None: the recognisers' quick test."""
    if not is_valid(program):
        return None
    program = without_dead_slots(program)
    if program.num_state_slots == 0 or not any(s.op in _QUICK_OPS for s in program.statements):
        return None
    return program


def recognize_lion(program: Program) -> LionMatch | None:
    """The Lion constants of ``program``, or None when it is not Lion-family."""
    program = sign_candidate(program)
    if program is None:
        return None
    try:
        fitted = _fit(program)
    except Exception:  # sympy gave up on an odd program: not recognisably Lion
        return None
    if fitted is None:
        return None
    b1, b2, weight_decay, lr_scale = fitted
    exact = canonical_lion(b1, b2, weight_decay, lr_scale)
    if fingerprint(exact) != fingerprint(program):
        return None
    return LionMatch(*(tidy(x) for x in fitted))


def _fit(program: Program):
    """``(b1, b2, weight_decay, lr_scale)`` read off the canonical form, or None."""
    symbolic = canonicalize(to_sympy(program))
    symbolic, _ = reduce_slots(symbolic)
    symbolic = canonicalize(symbolic)
    if len(symbolic.slots) != 1:
        return None
    slot = symbolic.slots[0]
    ema = linear_form(symbolic.states[0], [G, slot])
    if ema is None or set(ema) != {G, slot}:
        return None
    b2, gain = float(ema[slot]), float(ema[G])
    if not 0.0 < b2 < 1.0:
        return None
    parts = _sign_and_decay(symbolic.update)
    if parts is None:
        return None
    sign_scale, argument, decay_scale = parts
    combination = linear_form(argument, [G, slot])
    if combination is None or set(combination) != {G, slot}:
        return None
    alpha = float(combination[G])
    beta = float(combination[slot]) * gain / (1.0 - b2)  # per unit of the EMA of g
    total = alpha + beta
    if total == 0.0:
        return None
    b1 = beta / total
    lr_scale = sign_scale * math.copysign(1.0, total)
    weight_decay = decay_scale / lr_scale if lr_scale else math.nan
    if weight_decay < 0 and abs(weight_decay) < 1e-12:
        weight_decay = 0.0
    ok = (0.0 < b1 < 1.0 and lr_scale > 0.0 and weight_decay >= 0.0
          and abs(b1 - b2) > SAME_RATE * max(b1, b2) and all(
              math.isfinite(x) for x in (b1, b2, weight_decay, lr_scale)))
    return (b1, b2, weight_decay, lr_scale) if ok else None


def _sign_and_decay(update: sympy.Expr):
    """``(a, c, d)`` with ``update == a * lr * sign(c) + d * lr * w``, or None."""
    signs = update.atoms(sympy.sign)
    if len(signs) != 1:
        return None
    (sign_term,) = signs
    expanded = sympy.expand(update, power_base=False, power_exp=False, log=False,
                            multinomial=False)
    if tree_size(expanded) > 200:
        return None
    sign_scale, decay_scale = 0.0, 0.0
    for term, coefficient in expanded.as_coefficients_dict().items():
        if not coefficient.is_Number:
            return None
        if term == LR * sign_term:
            sign_scale += float(coefficient)
        elif term == LR * W:
            decay_scale += float(coefficient)
        else:
            return None
    if sign_scale == 0.0:
        return None
    return sign_scale, canonical(sign_term.args[0]), decay_scale


def tidy(value: float) -> float:
    """``value`` without the float noise of the algebra (DIGITS significant digits)."""
    return float(f"{value:.{DIGITS}g}") + 0.0
