"""Lion-family, honestly: Lion itself, or the Lion core with extras around it.

:func:`programs.recognize.recognize_lion` says whether a program *is* Lion (funcsim-equal
to the canonical Lion with some constants). A search also grows things around Lion's
core: a clip on the step, a step multiplier, a transformed gradient fed to the EMA. Such
a program is *Lion core with extras* when, in its canonical algebra
(:mod:`programs.algebra`, after dead code and redundant slots are gone):

* one state slot ``s`` is an EMA: ``s' = b2 * s + k * u``, ``0 < b2 < 1``, ``k != 0``,
  where ``u`` depends on the gradient ``g`` alone and keeps its sign and order (``g``
  itself, or an input transform such as ``clip(g, 1)``; not ``g * g``);
* the update contains ``sign(alpha * u + h(s))``, the sign of an interpolation of ``u``
  and the EMA, with weight ``b1`` on the EMA, ``0 < b1 < 1`` and ``b1 != b2`` (read off
  per unit of the EMA of ``u``, as the exact recogniser does; ``h`` keeps sign and order,
  and its slope at 0 counts: ``h(s) = 0.9 * tanh(s)`` reads the EMA through a tanh). The
  EMA may be read through another slot that holds a function of it, also one step late
  (``m' = arctanh(s)``);
* the gradient and the state reach the update through that sign and nowhere else: with
  the sign replaced by a free symbol, the update depends on nothing but that symbol, the
  weight ``w`` and the schedule ``lr``.

So signum (``b1 == b2``) is never Lion-family, AdamW never is (its update reads the
gradient through a quotient, not a sign), and neither is ``sign(g) + sign(c)`` (the
gradient reaches the update outside the core). The extras are reported as text: the
update with the core written ``sign(c)``, and the EMA's input when it is not ``g``.
``weight_decay`` is the update's term in ``w`` relative to the step it takes at
``sign(c) = 1`` (None when the two are not in a constant ratio).

Example:
    >>> from programs.parser import parse
    >>> from programs.seed_programs import load_seed
    >>> lion_family(load_seed("lion")).kind
    'Lion'
    >>> clipped = parse('''def train(w, g, m, lr):
    ...     c = interp(g, m, 0.9)
    ...     s = sign(c)
    ...     s = clip(s, 0.5)
    ...     u = s * lr
    ...     m = interp(g, m, 0.99)
    ...     return u, m''')
    >>> match = lion_family(clipped)
    >>> match.kind, match.b1, match.b2, match.extras
    ('Lion core with extras', 0.9, 0.99, ('update = lr*Max(-1/2, Min(1/2, sign(c)))',))
    >>> lion_family(load_seed("signum")) is None, is_lion_family(load_seed("adamw"))
    (True, False)
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass

import sympy

from .algebra import G, LR, W, canonicalize, round_floats, to_sympy
from .program import Program
from .recognize import SAME_RATE, LionMatch, recognize_lion, sign_candidate, tidy
from .state_space import reduce_slots

LION, CORE = "Lion", "Lion core with extras"
_CORE = sympy.Symbol("sign(c)")
_EMA = sympy.Symbol("s")


@dataclass(frozen=True)
class FamilyMatch:
    """A Lion-family program: ``kind`` is ``"Lion"`` or ``"Lion core with extras"``.

    Attributes:
        kind: :data:`LION` (exactly Lion) or :data:`CORE` (Lion's core with extras).
        b1: the weight of the EMA in the sign's interpolation.
        b2: the EMA's rate.
        weight_decay: decoupled decay relative to the sign step, or None (see module).
        extras: what surrounds the core, as text (empty for Lion).
        lion: the exact match's constants, for Lion.
    """

    kind: str
    b1: float
    b2: float
    weight_decay: float | None
    extras: tuple[str, ...] = ()
    lion: LionMatch | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["extras"] = list(self.extras)
        return data


def lion_family(program: Program) -> FamilyMatch | None:
    """Whether ``program`` is Lion or the Lion core with extras, with its constants."""
    exact = recognize_lion(program)
    if exact is not None:
        return FamilyMatch(LION, exact.b1, exact.b2, exact.weight_decay, (), exact)
    return recognize_lion_core(program)


@functools.lru_cache(maxsize=4096)
def is_lion_family(program: Program) -> bool:
    """Whether ``program`` is Lion-family (Lion, or its core with extras); cached."""
    return lion_family(program) is not None


def recognize_lion_core(program: Program) -> FamilyMatch | None:
    """The Lion core of ``program`` with its extras (see the module), or None."""
    program = sign_candidate(program)
    if program is None:
        return None
    try:
        symbolic = canonicalize(to_sympy(program))
        symbolic, _ = reduce_slots(symbolic)
        symbolic = canonicalize(symbolic)
        for sign in sorted(symbolic.update.atoms(sympy.sign), key=sympy.default_sort_key):
            for slot, state in zip(symbolic.slots, symbolic.states):
                match = _core(symbolic, sign, slot, state)
                if match is not None:
                    return match
    except Exception:  # sympy gave up on an odd program: not recognisably Lion
        return None
    return None


def _core(symbolic, sign, slot, state) -> FamilyMatch | None:
    """The match when ``sign`` is the core's sign over the EMA ``slot``, else None."""
    outside = symbolic.update.xreplace({sign: _CORE})
    if _CORE not in outside.free_symbols or not outside.free_symbols <= {_CORE, LR, W}:
        return None
    ema = _ema(state, slot)
    if ema is None:
        return None
    b2, gain, source = ema
    read = _read_through(sign.args[0], symbolic, slot, state)
    if read is None:
        return None
    argument, late = read
    from_g, from_ema = sympy.S.Zero, sympy.S.Zero
    for term in sympy.Add.make_args(sympy.expand(argument)):
        if term.free_symbols <= {G}:
            from_g += term
        elif term.free_symbols <= {slot}:
            from_ema += term
        else:
            return None
    alpha = _number(sympy.expand(from_g / source))
    beta = _slope(from_ema, slot)
    if alpha is None or beta is None:
        return None
    beta_per_ema = beta * gain / (1.0 - b2)
    total = alpha + beta_per_ema
    if total == 0.0:
        return None
    b1 = beta_per_ema / total
    if not (0.0 < b1 < 1.0 and abs(b1 - b2) > SAME_RATE * max(b1, b2)):
        return None
    if total < 0:  # sign(-c) = -sign(c): the step's sign turns, not the core
        outside = outside.xreplace({_CORE: -_CORE})
    extras = [f"update = {_text(outside)}"]
    if source != G:
        extras.append(f"the EMA's input is {_text(source)}, not g")
    if sympy.expand(from_ema - beta * slot) != 0:
        extras.append(f"the EMA s is read as {_text(from_ema.xreplace({slot: _EMA}))}")
    if late:
        extras.append("the EMA is read a step late (a slot holds it from the step before)")
    return FamilyMatch(CORE, tidy(b1), tidy(b2), _weight_decay(outside), tuple(extras))


def _ema(state, slot):
    """``(b2, k, u)`` with ``state == b2 * slot + k * u``: ``u`` depends on g alone and
    keeps its sign and order (``g``, ``clip(g, 1)``, not ``g * g``); else None."""
    expanded = sympy.expand(state)
    b2 = _number(expanded.coeff(slot))
    if b2 is None or not 0.0 < b2 < 1.0:
        return None
    rest = sympy.expand(expanded - b2 * slot)
    if rest == 0 or rest.free_symbols != {G}:
        return None
    gain, source = rest.as_coeff_Mul()
    direction = _order_preserving(source, G)
    if direction is None:
        return None
    return b2, float(gain) * direction, source * direction


def _read_through(argument, symbolic, slot, state):
    """``(argument, late)``: ``argument`` with every other slot that holds a function of
    the EMA written as that function of ``slot``; ``late`` when one holds it of the EMA's
    incoming value (``m' = f(s)``: read a step late). None when another slot is read that
    is not a function of the EMA."""
    late = False
    for other, other_state in zip(symbolic.slots, symbolic.states):
        if other == slot or other not in argument.free_symbols:
            continue
        function = other_state.xreplace({state: slot})
        if function.free_symbols != {slot}:
            return None
        late = late or other_state.free_symbols == {slot}
        argument = argument.xreplace({other: function})
    return argument, late


_PROBES = (1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.3, 0.5)


def _values(expr, symbol, points) -> list[float] | None:
    try:
        values = [float(expr.xreplace({symbol: sympy.Float(x)})) for x in points]
    except (TypeError, ValueError):
        return None
    return values if all(math.isfinite(v) for v in values) else None


def _order_preserving(expr, symbol) -> int | None:
    """+1 when ``expr`` (of ``symbol`` alone) keeps the sign and the order of its
    argument, -1 when it turns both, else None (checked on points from 1e-8 to 0.5 in
    size, where gradients and their EMAs live)."""
    points = sorted([-x for x in _PROBES] + [0.0] + list(_PROBES))
    values = _values(expr, symbol, points)
    if values is None:
        return None
    for direction in (1, -1):
        signs_kept = all(math.copysign(1.0, direction * v) == math.copysign(1.0, x)
                         and (v == 0) == (x == 0) for x, v in zip(points, values))
        ordered = all(direction * (b - a) >= 0 for a, b in zip(values, values[1:]))
        if signs_kept and ordered:
            return direction
    return None


def _slope(expr, symbol) -> float | None:
    """The slope at 0 of ``expr`` (of ``symbol`` alone), when it keeps or turns the sign
    and order of its argument; else None."""
    if expr == 0 or _order_preserving(expr, symbol) is None:
        return None
    values = _values(expr, symbol, (-1e-9, 1e-9))
    if values is None:
        return None
    slope = (values[1] - values[0]) / 2e-9
    linear = _number(sympy.expand(expr / symbol))
    return linear if linear is not None else (slope if slope != 0.0 else None)


def _weight_decay(outside) -> float | None:
    """The coefficient of ``w`` over the step at ``sign(c) = 1``, or None."""
    try:
        expanded = sympy.expand(outside)
        decay = sympy.Add(*(term for term in sympy.Add.make_args(expanded)
                            if _CORE not in term.free_symbols))
        step = (expanded - decay).subs(_CORE, 1)
        if step == 0:
            return None
        value = _number(sympy.expand(decay / W / step))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return None if value is None else tidy(value) + 0.0


def _number(expr) -> float | None:
    """``expr`` as a finite float when it is a number, else None."""
    if expr is None or not getattr(expr, "is_number", False):
        return None
    try:
        value = float(expr)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _text(expr) -> str:
    return str(round_floats(expr, 6))
