"""Fewer state slots: slots that are always zero, slots that carry the same quantity,
linear slots rewritten in the fewest slots, and scaled EMAs stored unscaled.

All three act on a :class:`~programs.algebra.Symbolic` (the program's outputs as
expressions of its inputs and of each slot's incoming value) and rest on one fact: state
slots start at zero.

* **Zero slots.** A set of slots whose new values are all 0 when those slots are 0 stays
  0 forever (induction over steps); each such slot is replaced by 0.
* **Equal slots.** Slots ``i`` and ``j`` whose new values are equal whenever their old
  values are (the expressions agree after putting ``s_i`` for ``s_j``) hold the same
  value at every step; ``s_j`` is replaced by ``s_i``.
* **Linear slots.** Slots whose new values are linear, with constant coefficients, in
  the gradient, the weight, a constant, and the old values of such slots form a linear
  system ``x' = A x + B u`` started at ``x = 0``. Its state stays in the reachable
  subspace spanned by ``B, AB, A^2 B, ...``; when that has dimension ``r`` below the
  number of slots, ``r`` slots suffice. The basis is chosen in reduced echelon form, so
  each kept slot holds exactly the value it held before and every dropped slot is a
  fixed combination of kept ones (``v = m``, or ``v = 0.5 * m``), substituted in.
* **Unit gain.** A slot updated as ``s' = a * s + c * g`` with ``0 < a < 1`` holds
  ``c / (1 - a)`` times the EMA ``e' = a * e + (1 - a) * g`` (heavy-ball momentum
  ``s' = 0.9 * s + g`` is 10 times the EMA of rate 0.9); the slot then stores the EMA and
  its readers are scaled instead. (The same number of slots, one op fewer.)

Example:
    >>> from programs.algebra import canonicalize, to_sympy
    >>> from programs.parser import parse
    >>> p = parse('''def train(w, g, m, v, lr):
    ...     m2 = interp(g, v, 0.99)
    ...     v2 = interp(g, m, 0.99)
    ...     s = m + v
    ...     u = sign(s)
    ...     return u, m2, v2''')
    >>> reduced, notes = reduce_slots(canonicalize(to_sympy(p)))
    >>> reduced.slot_names, reduced.update
    (('m',), sign(s1))
    >>> notes
    ['slot v always equals m: merged into m']
"""

from __future__ import annotations

import numpy as np
import sympy

from .algebra import DIGITS, G, W, AlgebraError, Symbolic, linear_form, round_floats

RANK_TOLERANCE = 1e-9


def reduce_slots(symbolic: Symbolic) -> tuple[Symbolic, list[str]]:
    """``symbolic`` in fewer slots where that is exact, and notes on what was done."""
    notes: list[str] = []
    symbolic = _zero_slots(symbolic, notes)
    symbolic = _equal_slots(symbolic, notes)
    symbolic = _linear_slots(symbolic, notes)
    symbolic = _unit_gain(symbolic, notes)
    return symbolic, notes


def _substitute(symbolic: Symbolic, mapping: dict, drop: set[int]) -> Symbolic:
    substituted = symbolic.map(lambda e: e.xreplace(mapping) if mapping else e)
    return substituted.without_slots(drop)


def _same(a, b) -> bool:
    return a == b or round_floats(sympy.expand(a - b, deep=False)) == 0


def _zero_slots(symbolic: Symbolic, notes: list[str]) -> Symbolic:
    zero: set[int] = set()
    grew = True
    while grew:
        grew = False
        for k in range(len(symbolic.slots)):
            if k in zero:
                continue
            trial = {symbolic.slots[j]: sympy.Integer(0) for j in zero | {k}}
            if symbolic.states[k].xreplace(trial) == 0:
                zero.add(k)
                grew = True
    if not zero:
        return symbolic
    for k in sorted(zero):
        notes.append(f"slot {symbolic.slot_names[k]} is always zero: replaced by 0")
    mapping = {symbolic.slots[k]: sympy.Integer(0) for k in zero}
    return _substitute(symbolic, mapping, zero)


def _equal_slots(symbolic: Symbolic, notes: list[str]) -> Symbolic:
    slots = symbolic.slots
    for i in range(len(slots)):
        for j in range(i + 1, len(slots)):
            same = {slots[j]: slots[i]}
            if _same(symbolic.states[i].xreplace(same), symbolic.states[j].xreplace(same)):
                notes.append(f"slot {symbolic.slot_names[j]} always equals "
                             f"{symbolic.slot_names[i]}: merged into {symbolic.slot_names[i]}")
                return _equal_slots(_substitute(symbolic, same, {j}), notes)
    return symbolic


def linear_slots(symbolic: Symbolic) -> dict[int, dict]:
    """The slots whose new values are linear in (g, w, 1, old values of such slots).

    Returns ``{slot: linear form}`` (see :func:`programs.algebra.linear_form`).
    """
    candidates = set(range(len(symbolic.slots)))
    while True:
        atoms = [G, W] + [symbolic.slots[k] for k in candidates]
        forms = {k: linear_form(symbolic.states[k], atoms) for k in candidates}
        linear = {k for k, form in forms.items() if form is not None}
        if linear == candidates:
            return forms
        candidates = linear


def _linear_slots(symbolic: Symbolic, notes: list[str]) -> Symbolic:
    forms = linear_slots(symbolic)
    if len(forms) < 2:
        return symbolic
    order = sorted(forms)
    index = {k: n for n, k in enumerate(order)}
    inputs = [G, W, sympy.Integer(1)]
    a = np.zeros((len(order), len(order)))
    b = np.zeros((len(order), len(inputs)))
    for k, form in forms.items():
        for atom, coefficient in form.items():
            if atom in inputs:
                b[index[k], inputs.index(atom)] = float(coefficient)
            else:
                a[index[k], index[symbolic.slots.index(atom)]] = float(coefficient)
    basis = _reachable_basis(a, b)
    if basis.shape[0] >= len(order):
        return symbolic
    pivots = [int(np.flatnonzero(np.abs(row) > RANK_TOLERANCE)[0]) for row in basis]
    kept = [order[p] for p in pivots]
    mapping = {}
    drop = set()
    for n, k in enumerate(order):
        if k in kept:
            continue
        combination = sum((_round(basis[r, n]) * symbolic.slots[kept[r]]
                           for r in range(len(kept))), sympy.Integer(0))
        mapping[symbolic.slots[k]] = combination
        drop.add(k)
        notes.append(f"slot {symbolic.slot_names[k]} is the linear combination "
                     f"{combination.xreplace(_names(symbolic))} of the other slots "
                     f"(reachable states span {len(kept)} of {len(order)} linear slots): "
                     f"substituted")
    if not mapping:
        return symbolic
    return _substitute(symbolic, mapping, drop)


def _unit_gain(symbolic: Symbolic, notes: list[str]) -> Symbolic:
    """A slot updated as ``s' = a * s + c * g`` (``0 < a < 1``) holds ``c / (1 - a)`` times
    the EMA ``e' = a * e + (1 - a) * g``; store the EMA itself."""
    for k, form in linear_slots(symbolic).items():
        slot = symbolic.slots[k]
        if set(form) != {slot, G} or not 0 < float(form[slot]) < 1:
            continue
        rate, gain = form[slot], form[G]
        scale = _round(float(gain / (1 - rate)))
        if scale == 1:
            continue
        notes.append(f"slot {symbolic.slot_names[k]} holds {float(scale):g} times an EMA of g "
                     f"with rate {float(rate):g}: it now stores the EMA itself")
        stored = symbolic.map(lambda e: e.xreplace({slot: scale * slot}))
        states = list(stored.states)
        states[k] = sympy.expand(states[k] / scale)
        return _unit_gain(Symbolic(stored.params, stored.update, tuple(states),
                                   stored.slots), notes)
    return symbolic


def _names(symbolic: Symbolic) -> dict:
    return {s: sympy.Symbol(name) for s, name in zip(symbolic.slots, symbolic.slot_names)}


def _round(value: float):
    rounded = float(f"{value:.{DIGITS}g}")
    return sympy.Integer(int(rounded)) if rounded.is_integer() else sympy.Float(rounded)


def _reachable_basis(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rows spanning the reachable subspace of ``x' = A x + B u``, in reduced echelon form."""
    n = a.shape[0]
    blocks, block = [], b
    for _ in range(n):
        blocks.append(block)
        block = a @ block
    krylov = np.concatenate(blocks, axis=1)
    if not np.all(np.isfinite(krylov)):
        raise AlgebraError("the linear state update is not finite")
    return _rref(krylov.T)


def _rref(m: np.ndarray) -> np.ndarray:
    """Nonzero rows of the reduced row echelon form of ``m`` (partial pivoting)."""
    m = np.array(m, dtype=float)
    scale = max(float(np.max(np.abs(m))) if m.size else 0.0, 1e-300)
    rows, cols = m.shape
    r = 0
    for c in range(cols):
        if r == rows:
            break
        p = r + int(np.argmax(np.abs(m[r:, c])))
        if abs(m[p, c]) <= RANK_TOLERANCE * scale:
            m[r:, c] = 0.0
            continue
        m[[r, p]] = m[[p, r]]
        m[r] /= m[r, c]
        for other in range(rows):
            if other != r:
                m[other] -= m[other, c] * m[r]
        r += 1
    return m[:r]
