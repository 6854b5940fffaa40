"""Readable names and a natural order for a program.

The live statements are put in the order a person writes an optimizer: what the update
needs, in the order it needs it (each value right before its first use), then the new
value of each state slot. Names say what a value is:

* the update is ``update``; a state slot's new value takes the slot's name (or
  ``<slot>_next`` where the old value is still read after it);
* a slot that is an EMA of the gradient (``s' = a * s + b * g``, ``0 < a < 1``) is
  ``momentum``; an EMA of the squared gradient is ``second_moment``; others keep
  their names;
* a scalar made of ``lr`` and constants is ``step_size``; ``w`` times a constant is
  ``decay``, and the sum that adds it ``step``; other values are named after their op
  (``interp`` gives ``blend``, ``sign`` gives ``direction``, ...).

Renaming and reordering independent statements cannot change what a program computes;
the simplifier still checks the result with funcsim.

Example:
    >>> from programs.parser import parse
    >>> from programs.printer import to_source
    >>> p = parse('''def train(w, g, m, v, lr):
    ...     t3 = interp(g, v, 0.99)
    ...     t0 = interp(g, v, 0.9)
    ...     t1 = sign(t0)
    ...     t4 = w * 0.1
    ...     t2 = t1 + t4
    ...     t5 = lr * 0.0001
    ...     t6 = t2 * t5
    ...     return t6, m, t3''')
    >>> print(to_source(readable(p)))
    def train(w, g, m, momentum, lr):
        blend = interp(g, momentum, 0.9)
        direction = sign(blend)
        decay = w * 0.1
        step = direction + decay
        step_size = lr * 0.0001
        update = step * step_size
        momentum = interp(g, momentum, 0.99)
        return update, m, momentum
"""

from __future__ import annotations

import sympy

from .algebra import AlgebraError, G, canonical, linear_form, to_sympy
from .dataflow import liveness
from .kinds import infer_kinds, input_kinds
from .ops import CONSTANTS, OPS, SCALAR
from .program import Program, Statement, Var

OP_NOUNS = {
    "interp": "blend", "sign": "direction", "add": "total", "sub": "difference",
    "mul": "product", "div": "ratio", "sqrt": "root", "square": "squared",
    "cube": "cubed", "abs": "magnitude", "negative": "negated", "reciprocal": "inverse",
    "norm": "size", "global_norm": "global_size", "dot": "inner",
    "cosine_sim": "similarity", "exp": "exponential", "log": "logarithm",
    "max": "larger", "min": "smaller", "clip": "clipped", "power": "raised",
}


def readable(program: Program) -> Program:
    """``program``'s live statements in natural order, with readable names."""
    live = liveness(program)
    slot_names = _slot_names(program, live.live_slots)
    params = (program.weight, program.gradient, *slot_names, program.learning_rate)

    # SSA: each statement gets an id; arguments refer to ids or ("in", parameter).
    current = {p: ("in", p) for p in program.params}
    defs = {}
    for index, statement in enumerate(program.statements):
        args = tuple(Var(current[a.name]) if isinstance(a, Var) else a
                     for a in statement.args)
        defs[("stmt", index)] = (statement.op, args)
        current[statement.target] = ("stmt", index)
    outputs = [current[name] for name in program.returns]
    order = _postorder(defs, outputs)
    kinds = {("in", p): kind for p, kind in input_kinds(program).items()}
    kinds.update(zip((("stmt", i) for i in range(len(program.statements))),
                     infer_kinds(program)))

    names = {("in", old): new for old, new in zip(program.params, params)}
    taken = set(params)
    context = _Context(program, params, defs, outputs, order, kinds, names)
    for position, node in enumerate(order):
        names[node] = context.name(node, position, taken)
        taken.add(names[node])

    def arg(a):
        return Var(names[a.name]) if isinstance(a, Var) else a

    statements = [Statement(names[node], defs[node][0], tuple(arg(a) for a in defs[node][1]))
                  for node in order]
    return Program(params, tuple(statements), tuple(names[o] for o in outputs),
                   program.name)


def _postorder(defs: dict, outputs: list) -> list:
    """Statements the outputs need, each right after what it reads, update first."""
    order, seen = [], set()
    for root in outputs:
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if node[0] != "stmt" or node in seen:
                continue
            seen.add(node)
            stack.append((node, True))
            for a in reversed(defs[node][1]):
                if isinstance(a, Var):
                    stack.append((a.name, False))
    return order


class _Context:
    """What naming one statement needs to know about the whole program."""

    def __init__(self, program, params, defs, outputs, order, kinds, names):
        self.program, self.params, self.defs = program, params, defs
        self.outputs, self.order, self.kinds, self.names = outputs, order, kinds, names

    def name(self, node, position: int, taken: set) -> str:
        if node == self.outputs[0]:
            return _fresh("update", taken)
        for slot, output in enumerate(self.outputs[1:]):
            if output == node:
                return self.slot_output_name(slot, position, taken)
        op, args = self.defs[node]
        if self.kinds[node] == SCALAR and self.inputs_of(node) <= {self.program.learning_rate}:
            lr = self.program.learning_rate in self.inputs_of(node)
            return _fresh("step_size" if lr else "scale", taken)
        variables = [a.name for a in args if isinstance(a, Var)]
        if op == "mul" and variables == [("in", self.program.weight)]:
            return _fresh("decay", taken)
        if op in ("add", "sub") and any(self.names.get(v, "").startswith("decay")
                                        for v in variables):
            return _fresh("step", taken)
        return _fresh(OP_NOUNS.get(op, f"{op}_value"), taken)

    def slot_output_name(self, slot: int, position: int, taken: set) -> str:
        """The slot's own name, unless its old value is still needed after this point."""
        name = self.params[2 + slot]
        old = ("in", self.program.state_slots[slot])
        later_reads = any(Var(old) in self.defs[n][1] for n in self.order[position + 1:])
        if later_reads or old in self.outputs:
            return _fresh(f"{name}_next", taken)
        return name

    def inputs_of(self, node) -> set:
        """The parameters (original names) that ``node`` depends on."""
        stack, seen, inputs = [node], set(), set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            if current[0] == "in":
                inputs.add(current[1])
            else:
                stack.extend(a.name for a in self.defs[current][1] if isinstance(a, Var))
        return inputs


def _fresh(base: str, taken: set) -> str:
    if base not in taken and base not in OPS and base not in CONSTANTS:
        return base
    index = 2
    while f"{base}_{index}" in taken:
        index += 1
    return f"{base}_{index}"


def _slot_names(program: Program, live_slots) -> tuple[str, ...]:
    """Readable names for the state slots (EMA of g: ``momentum``; of g^2: ``second_moment``)."""
    try:
        symbolic = to_sympy(program)
    except AlgebraError:
        return program.state_slots
    wanted = []
    for k, name in enumerate(program.state_slots):
        kind = None
        if k in live_slots:
            kind = _ema_of(canonical_or_none(symbolic.states[k]), symbolic.slots[k])
        wanted.append(kind or name)
    taken = {program.weight, program.gradient, program.learning_rate}
    taken |= {old for old, new in zip(program.state_slots, wanted) if old == new}
    result = []
    for old, new in zip(program.state_slots, wanted):
        if new != old:
            new = _fresh(new, taken)
            taken.add(new)
        result.append(new)
    return tuple(result)


def canonical_or_none(expr):
    try:
        return canonical(expr)
    except AlgebraError:
        return None


def _ema_of(expr, slot) -> str | None:
    if expr is None:
        return None
    for atom, name in ((G, "momentum"), (G ** 2, "second_moment")):
        form = linear_form(expr, [slot, atom])
        if form is not None and set(form) == {slot, atom} and \
                0 < float(form[slot]) < 1 and isinstance(form[slot], sympy.Number):
            return name
    return None
