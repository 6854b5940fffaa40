"""Local rewrites: exact, statement-level simplifications that keep the rest as written.

The algebra step (:mod:`programs.algebra`) rewrites a program as a whole and keeps the
result only when it is no longer than the program, so one part that its canonical form
spells longer (``clip`` as ``max``/``min``, a quotient sympy cannot prove is a sign)
costs every other simplification. These rewrites work one statement at a time; each is
kept when the program stays valid and passes the caller's ``accept`` check:

* **constants fold**: an element-wise op whose arguments are all constants becomes its
  value (``scale = exp(-0.802)``: its uses read ``0.448431204248``);
* **identities go**: ``x * 1``, ``x + 0``, ``x - 0``, ``x / 1``, ``interp(x, y, 0)``,
  ``interp(x, y, 1)``, ``interp(x, x, a)``, ``negative(negative(x))``, ``sign(sign(x))``,
  ``abs`` of a value that is never negative, ``sign(x) * abs(x)``;
* **signs and absolute values**: ``sqrt(x * x)``, ``sqrt(square(x))`` and
  ``square(sqrt(x))`` are ``abs(x)``; ``x / abs(x)``, ``abs(x) / x`` and
  ``x / sqrt(x * x)`` are ``sign(x)``; ``abs(negative(x))`` is ``abs(x)``;
* **negations**: ``x + negative(y)`` is ``x - y``, ``x - negative(y)`` is ``x + y``;
* **powers** (``power`` is ``|x| ** y``): ``power(x, 1)``, ``power(x, 0.5)``,
  ``power(x, 2)`` are ``abs(x)``, ``sqrt(x)``, ``square(x)``;
* **linear chains** with constant weights (``+ - * negative interp``) collapse when the
  result is one statement: an ``interp``, one variable times or plus a constant, or the
  variable itself. ``interp(a, interp(a, y, b1), b2)`` is ``interp(a, y, b1 * b2)``,
  ``g * 0.1 + m * 0.9`` is ``interp(g, m, 0.9)``, ``(lr * 2) * 0.5`` is ``lr``. An
  intermediate read elsewhere stays, so the program never grows.

Left out on purpose: ``x * 0`` and ``x - x`` (not 0 when ``x`` is inf or nan), ``x / x``
(0 at ``x = 0``), ``exp(log(x))`` (``log`` floors ``|x|`` at 1e-30). A value nothing
reads any more goes; a variable that a later assignment would shadow is renamed
(``name_1``).

**Exactness.** Each rewrite is an identity of the ops' real-valued meaning
(:mod:`programs.ops`), the safe-division epsilon left out as in the algebra (``x /
abs(x)`` is ``sign(x)`` up to it). In floating point the sides agree to rounding
(``sqrt(x * x)`` is ``|x|`` exactly in IEEE arithmetic unless ``x * x`` overflows or
underflows). :mod:`programs.simplify` checks each rewrite with funcsim;
``tests/test_simplify_oracle.py`` checks the rules with the executor over long streams.

**Folded constants** are computed in float64 with the registry's numpy meaning (so the
safe numerics hold: ``sqrt(-4.0)`` is 2, ``arcsin(2.0)`` is ``pi / 2``), division
without its epsilon, at full precision through a chain of folds, and written with
:data:`~programs.algebra.DIGITS` (12) significant digits, as the algebra writes every
constant: within 5e-13 (relative) of the float64 value, far inside float32's 6e-8, so
the literal is the float32 of the exact value. A value that is not finite
(``exp(1000.0)``, ``1.0 / 0.0``) is not folded. Linear-chain weights are combined in
float64 and kept at 12 digits the same way (``0.899 * 1.109`` is ``0.996991``).

Example:
    >>> from programs.parser import parse
    >>> from programs.printer import to_source
    >>> p = parse('''def train(w, g, m, v, lr):
    ...     m = interp(g, v, 0.899)
    ...     m2 = m * m
    ...     v = interp(g, m, 1.109)
    ...     abs_m = sqrt(m2)
    ...     update = m / abs_m
    ...     scale = exp(0.0)
    ...     update = update * scale
    ...     update = update * lr
    ...     return update, m, v''')
    >>> rewritten, notes = rewrite_locally(p)
    >>> print(to_source(rewritten))
    def train(w, g, m, v, lr):
        m = interp(g, v, 0.899)
        v = interp(g, v, 0.996991)
        update = sign(m)
        update = update * lr
        return update, m, v
    >>> for note in notes:
    ...     print(note)
    v = interp(g, m, 1.109) -> v = interp(g, v, 0.996991): a chain of interp with constant weights is one interp
    abs_m = sqrt(m2) -> abs_m = abs(m): sqrt(x * x) is abs(x)
    update = m / abs_m -> update = sign(m): x / abs(x) is sign(x)
    scale = exp(0.0) folded into its uses: 1.0
    removed update = update * 1.0 (it is update): x * 1 is x
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable, Iterator

import numpy as np

from .emit import number
from .kinds import is_valid
from .ops import CONSTANTS, ELEMENTWISE, OPS, SCALAR, TENSOR
from .printer import format_arg
from .program import Const, NamedConst, Program, Statement, Var

Accept = Callable[[Program, Program], bool]

NONNEGATIVE_OPS = frozenset({"abs", "sqrt", "square", "exp", "exp2", "exp10", "cosh",
                             "arccosh", "log1p", "power", "norm", "global_norm"})
"""Ops whose value is never negative, so ``abs`` of it is itself."""

LIMIT = 200
"""The most rewrites applied to one program (a guard; real programs need a handful)."""

_ONE = "1"  # the constant term of a linear form
_FOLD_CONTEXT = SimpleNamespace(eps=0.0)  # division without its epsilon, as in the algebra


@dataclass(frozen=True)
class Ref:
    """A reference to a value of a :class:`_Graph` (a parameter or a statement's result)."""

    id: int


def rewrite_locally(program: Program, accept: Accept | None = None,
                    limit: int = LIMIT) -> tuple[Program, list[str]]:
    """``program`` with every local rewrite applied that keeps it valid (and accepted).

    Args:
        program: a valid program, best without dead code (dead statements are dropped).
        accept: ``accept(before, after)``, called on every rewritten program; a rewrite
            it refuses is not applied (the others still are).
        limit: the most rewrites to apply.

    Returns:
        The rewritten program and one line per applied rewrite.
    """
    graph = _Graph.of(program)
    current, notes = program, []
    refused: set = set()
    while len(notes) < limit:
        for vid, result, reason in graph.proposals():
            if (vid, result) in refused:
                continue
            after = graph.apply(vid, result)
            candidate = after.program()
            if candidate == current or not is_valid(candidate) or (
                    accept is not None and not accept(current, candidate)):
                refused.add((vid, result))
                continue
            notes.append(graph.describe(vid, result, reason))
            graph, current = after, candidate
            break
        else:
            break
    return current, notes


class _Graph:
    """A program in single-assignment form: every value has an id, arguments are refs."""

    def __init__(self, params, names, defs, lines, order, returns, folded=frozenset()):
        self.params = params          # the program's parameter names
        self.names = names            # value id -> its name in the source
        self.defs = defs              # value id -> (op, args), None for a parameter
        self.lines = lines            # value id -> source line of its statement
        self.order = order            # statement value ids, in program order
        self.returns = returns        # returned value ids
        self.folded = folded          # values of folded constants, kept at full precision
        self.kinds = self._kinds()

    @classmethod
    def of(cls, program: Program) -> "_Graph":
        params = program.params
        names, defs, lines = list(params), [None] * len(params), [None] * len(params)
        env = {name: k for k, name in enumerate(params)}
        order = []
        for s in program.statements:
            args = tuple(Ref(env[a.name]) if isinstance(a, Var) else a for a in s.args)
            vid = len(names)
            names.append(s.target)
            defs.append((s.op, args))
            lines.append(s.line)
            order.append(vid)
            env[s.target] = vid
        return cls(params, names, defs, lines, order, [env[n] for n in program.returns])

    def _kinds(self) -> list:
        kinds = [TENSOR] * len(self.params) + [None] * (len(self.names) - len(self.params))
        kinds[len(self.params) - 1] = SCALAR  # the learning rate
        for vid in self.order:
            op, args = self.defs[vid]
            arg_kinds = tuple(kinds[a.id] if isinstance(a, Ref) else SCALAR for a in args)
            kinds[vid] = OPS[op].result_kind(arg_kinds)
        return kinds

    # -- reading -----------------------------------------------------------------------

    def definition(self, arg) -> tuple:
        """``(op, args)`` of the statement computing ``arg``; ``(None, ())`` otherwise."""
        if isinstance(arg, Ref) and self.defs[arg.id] is not None:
            return self.defs[arg.id]
        return None, ()

    def reads_gradient(self, vid: int) -> bool:
        """Whether value ``vid`` depends on the gradient (parameter 1)."""
        seen, stack = set(), [vid]
        while stack:
            v = stack.pop()
            if v == 1:
                return True
            if v not in seen:
                seen.add(v)
                stack.extend(a.id for a in self.definition(Ref(v))[1] if isinstance(a, Ref))
        return False

    def text(self, arg) -> str:
        return self.names[arg.id] if isinstance(arg, Ref) else format_arg(arg)

    def describe(self, vid: int, result, reason: str) -> str:
        before = self.statement_text(vid, self.defs[vid])
        if result[0] == "op":
            return f"{before} -> {self.statement_text(vid, result[1:])}: {reason}"
        if result[0] == "const":
            return f"{before} folded into its uses: {number(result[1].value)!r}"
        return f"removed {before} (it is {self.text(result[1])}): {reason}"

    def statement_text(self, vid: int, definition) -> str:
        op, args = definition
        texts = [self.text(a) for a in args]
        symbol = OPS[op].symbol
        body = f"{texts[0]} {symbol} {texts[1]}" if symbol else f"{op}({', '.join(texts)})"
        return f"{self.names[vid]} = {body}"

    # -- writing -----------------------------------------------------------------------

    def apply(self, vid: int, result) -> "_Graph":
        """The graph with one rewrite of value ``vid`` applied, dead values dropped.

        ``result`` is ``("op", op, args)`` (a new definition), ``("alias", ref)`` (the
        value is ``ref``) or ``("const", Const)`` (the value is that constant).
        """
        defs, returns, folded = list(self.defs), list(self.returns), self.folded
        if result[0] == "const":
            folded = folded | {result[1].value}
        if result[0] == "op":
            defs[vid] = (result[1], result[2])
        else:
            new = result[1]
            for other in self.order:
                op, args = defs[other]
                if Ref(vid) in args:
                    defs[other] = (op, tuple(new if a == Ref(vid) else a for a in args))
            if result[0] == "alias":
                returns = [new.id if r == vid else r for r in returns]
        live, stack = set(), list(returns)
        while stack:
            v = stack.pop()
            if v in live or defs[v] is None:
                continue
            live.add(v)
            stack.extend(a.id for a in defs[v][1] if isinstance(a, Ref))
        order = [v for v in self.order if v in live]
        return _Graph(self.params, self.names, defs, self.lines, order, returns, folded)

    def program(self) -> Program:
        """Back to a program: original names, renaming a value a later one would shadow;
        folded constants rounded to 12 significant digits."""
        names = list(self.names)
        taken = set(names)
        while True:
            shadow = self._first_shadow(names)
            if shadow is None:
                break
            k = 1
            while f"{names[shadow]}_{k}" in taken:
                k += 1
            names[shadow] = f"{names[shadow]}_{k}"
            taken.add(names[shadow])
        statements = []
        for vid in self.order:
            op, args = self.defs[vid]
            args = tuple(Var(names[a.id]) if isinstance(a, Ref) else
                         Const(number(a.value)) if isinstance(a, Const) and
                         a.value in self.folded else a for a in args)
            statements.append(Statement(names[vid], op, args, self.lines[vid]))
        return Program(self.params, tuple(statements), tuple(names[r] for r in self.returns))

    def _first_shadow(self, names) -> int | None:
        """A statement value that hides, under its name, a value read after it."""
        bound = {name: k for k, name in enumerate(self.params)}
        for vid in self.order:
            for a in self.defs[vid][1]:
                if isinstance(a, Ref) and bound[names[a.id]] != a.id:
                    return bound[names[a.id]]
            bound[names[vid]] = vid
        for r in self.returns:
            if bound[names[r]] != r:
                return bound[names[r]]
        return None

    # -- the rewrites --------------------------------------------------------------------

    def proposals(self) -> Iterator[tuple]:
        """Every applicable rewrite, ``(value id, result, reason)``, in program order."""
        for vid in self.order:
            for rule in _RULES:
                for result, reason in rule(self, vid):
                    if result[0] == "alias" and (
                            not isinstance(result[1], Ref)
                            or self.kinds[result[1].id] != self.kinds[vid]):
                        continue
                    if result[0] == "op" and self._kind_of(result) != self.kinds[vid]:
                        continue
                    yield vid, result, reason

    def _kind_of(self, result) -> str:
        arg_kinds = tuple(self.kinds[a.id] if isinstance(a, Ref) else SCALAR
                          for a in result[2])
        return OPS[result[1]].result_kind(arg_kinds)


def _const(arg) -> float | None:
    if isinstance(arg, Const):
        return arg.value
    if isinstance(arg, NamedConst):
        return CONSTANTS[arg.name][0]
    return None


def _fold(graph: _Graph, vid: int):
    op, args = graph.defs[vid]
    values = [_const(a) for a in args]
    if OPS[op].result != ELEMENTWISE or any(v is None for v in values):
        return
    with np.errstate(all="ignore"):
        value = float(OPS[op].numpy(_FOLD_CONTEXT, *(np.float64(v) for v in values)))
    if math.isfinite(value):  # full precision until the program is written
        yield ("const", Const(value)), "constants fold"


def _identity(graph: _Graph, vid: int):
    op, args = graph.defs[vid]
    c = [_const(a) for a in args]
    if op == "mul":
        for k in (0, 1):
            if c[1 - k] == 1.0:
                yield ("alias", args[k]), "x * 1 is x"
    elif op == "add":
        for k in (0, 1):
            if c[1 - k] == 0.0:
                yield ("alias", args[k]), "x + 0 is x"
    elif op == "sub" and c[1] == 0.0:
        yield ("alias", args[0]), "x - 0 is x"
    elif op == "div" and c[1] == 1.0:
        yield ("alias", args[0]), "x / 1 is x"
    elif op == "interp":
        if c[2] == 0.0:
            yield ("alias", args[0]), "interp(x, y, 0) is x"
        if c[2] == 1.0:
            yield ("alias", args[1]), "interp(x, y, 1) is y"
        if args[0] == args[1]:
            yield ("alias", args[0]), "interp(x, x, a) is x"
    elif op == "negative":
        inner_op, inner = graph.definition(args[0])
        if inner_op == "negative":
            yield ("alias", inner[0]), "negative(negative(x)) is x"
    elif op == "sign":
        if graph.definition(args[0])[0] == "sign":
            yield ("alias", args[0]), "sign(sign(x)) is sign(x)"
    elif op == "abs":
        inner_op, inner = graph.definition(args[0])
        if inner_op in NONNEGATIVE_OPS or (inner_op == "mul" and inner[0] == inner[1]):
            yield ("alias", args[0]), f"{inner_op if inner_op != 'mul' else 'x * x'} is " \
                                      f"never negative: abs of it is itself"
    if op == "mul":
        ops = [graph.definition(a) for a in args]
        if {ops[0][0], ops[1][0]} == {"sign", "abs"} and ops[0][1] == ops[1][1]:
            yield ("alias", ops[0][1][0]), "sign(x) * abs(x) is x"


def _square_of(graph: _Graph, arg):
    """``x`` when ``arg`` is ``x * x`` or ``square(x)``, else None."""
    op, args = graph.definition(arg)
    if op == "square" or (op == "mul" and args[0] == args[1]):
        return args[0]
    return None


def _signs(graph: _Graph, vid: int):
    op, args = graph.defs[vid]
    if op == "sqrt":
        inner = _square_of(graph, args[0])
        if inner is not None:
            yield ("op", "abs", (inner,)), "sqrt(x * x) is abs(x)"
    elif op in ("square", "mul") and (op == "square" or args[0] == args[1]):
        inner_op, inner = graph.definition(args[0])
        if inner_op == "sqrt":
            yield ("op", "abs", inner), "sqrt(x) squared is abs(x)"
    elif op == "div":
        top, bottom = args
        bottom_op, bottom_args = graph.definition(bottom)
        if bottom_op == "abs" and bottom_args[0] == top:
            yield ("op", "sign", (top,)), "x / abs(x) is sign(x)"
        if bottom_op == "sqrt" and _square_of(graph, bottom_args[0]) == top:
            yield ("op", "sign", (top,)), "x / sqrt(x * x) is sign(x)"
        top_op, top_args = graph.definition(top)
        if top_op == "abs" and top_args[0] == bottom:
            yield ("op", "sign", (bottom,)), "abs(x) / x is sign(x)"
    elif op == "abs":
        inner_op, inner = graph.definition(args[0])
        if inner_op == "negative":
            yield ("op", "abs", inner), "abs(negative(x)) is abs(x)"


def _negations(graph: _Graph, vid: int):
    op, args = graph.defs[vid]
    if op not in ("add", "sub"):
        return
    for k in (1, 0) if op == "add" else (1,):
        inner_op, inner = graph.definition(args[k])
        if inner_op == "negative":
            other = args[1 - k]
            if op == "add":
                yield ("op", "sub", (other, inner[0])), "x + negative(y) is x - y"
            else:
                yield ("op", "add", (other, inner[0])), "x - negative(y) is x + y"


_POWERS = {1.0: ("abs", "power(x, 1) is abs(x)"), 0.5: ("sqrt", "power(x, 0.5) is sqrt(x)"),
           2.0: ("square", "power(x, 2) is square(x)")}


def _powers(graph: _Graph, vid: int):
    op, args = graph.defs[vid]
    if op == "power" and _const(args[1]) in _POWERS:
        name, reason = _POWERS[_const(args[1])]
        yield ("op", name, (args[0],)), reason


def _terms(graph: _Graph, definition) -> list | None:
    """``definition`` as ``[(weight, arg), ...]`` when it is linear with constant weights."""
    op, args = definition
    if op == "add":
        return [(1.0, args[0]), (1.0, args[1])]
    if op == "sub":
        return [(1.0, args[0]), (-1.0, args[1])]
    if op == "negative":
        return [(-1.0, args[0])]
    if op == "mul":
        c = [_const(a) for a in args]
        if (c[0] is None) != (c[1] is None):
            return [(c[0], args[1])] if c[0] is not None else [(c[1], args[0])]
    if op == "interp":
        a = _const(args[2])
        if a is not None:
            return [(1.0 - a, args[0]), (a, args[1])]
    return None


def _form(graph: _Graph, arg, depth: int) -> dict:
    """``arg`` as ``{value id or _ONE: weight}``, through linear definitions."""
    c = _const(arg)
    if c is not None:
        return {_ONE: c}
    terms = _terms(graph, graph.definition(arg)) if depth > 0 else None
    if terms is None:
        return {arg.id: 1.0}
    form: dict = {}
    for weight, sub in terms:
        for key, value in _form(graph, sub, depth - 1).items():
            form[key] = form.get(key, 0.0) + weight * value
    return form


def _linear(graph: _Graph, vid: int):
    terms = _terms(graph, graph.defs[vid])
    if terms is None or not any(_terms(graph, graph.definition(a)) for _, a in terms):
        return  # not linear, or nothing to collapse
    form = _form(graph, Ref(vid), depth=8)
    if not all(math.isfinite(v) for v in form.values()):
        return
    scale = max((abs(v) for v in form.values()), default=0.0)
    constant = number(form.pop(_ONE, 0.0))
    leaves = {k: number(v) for k, v in form.items() if abs(v) > 1e-12 * scale}
    if abs(constant) <= 1e-12 * scale:
        constant = 0.0
    keys = list(leaves)
    if len(keys) == 1 and constant == 0.0:
        (p,) = keys
        if leaves[p] == 1.0:
            yield ("alias", Ref(p)), "a chain of linear ops with constant weights is x"
        else:
            yield ("op", "mul", (Ref(p), Const(leaves[p]))), \
                "a chain of products with constants is one product"
    elif len(keys) == 1 and leaves[keys[0]] == 1.0:
        yield ("op", "add", (Ref(keys[0]), Const(constant))), \
            "a chain of sums with constants is one sum"
    elif len(keys) == 2 and constant == 0.0 and \
            abs(leaves[keys[0]] + leaves[keys[1]] - 1.0) < 1e-12:
        p, q = keys
        if graph.reads_gradient(q) and not graph.reads_gradient(p):
            p, q = q, p  # the gradient (or what reads it) first, as in interp(g, m, b)
        yield ("op", "interp", (Ref(p), Ref(q), Const(leaves[q]))), \
            "a chain of interp with constant weights is one interp" \
            if graph.defs[vid][0] == "interp" else \
            "a linear combination whose weights sum to 1 is one interp"


_RULES = (_fold, _identity, _signs, _negations, _powers, _linear)
