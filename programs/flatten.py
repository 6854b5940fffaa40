"""Flatten the nested expressions of a program file into one-op statements.

A program holds one op per statement, but a file written by hand may nest calls and
arithmetic: ``update = sign(interp(g, m, 0.9)) + w * 0.3``. Each inner op becomes a
statement of its own that assigns a fresh temporary (``t1``, ``t2``, ... skipping every
name the file writes, so the same file always gives the same names), in Python's order
of evaluation: left to right, inner before outer, with Python's precedence and
associativity (``ast`` has already applied them). Unary minus is ``negative``; unary
plus is dropped; ``-2`` stays a constant. Only whitelisted ``ast`` nodes are read;
nothing is evaluated.

Example:
    >>> from programs.parser import parse
    >>> from programs.printer import to_source
    >>> print(to_source(parse("def train(w, g, m, lr):\\n"
    ...                       "    u = sign(interp(g, m, 0.9)) + w * -(lr)\\n"
    ...                       "    return u, m\\n")))
    def train(w, g, m, lr):
        t1 = interp(g, m, 0.9)
        t2 = sign(t1)
        t3 = negative(lr)
        t4 = w * t3
        u = t2 + t4
        return u, m
"""

from __future__ import annotations

import ast
import math
from typing import Callable

from .ops import CONSTANTS, INFIX, OPS
from .program import Arg, Const, NamedConst, Statement, Var

BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_PY_BINOP_SYMBOLS = {ast.Pow: "**", ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@",
                     ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&", ast.BitOr: "|",
                     ast.BitXor: "^"}
_PY_UNARY_SYMBOLS = {ast.Not: "not", ast.Invert: "~"}
_FORBIDDEN_EXPRESSIONS = {
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "indexing is not allowed",
    ast.Lambda: "lambdas are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "`and`/`or` are not allowed",
    ast.IfExp: "conditional expressions are not allowed: a program is straight-line code",
    ast.NamedExpr: "`:=` is not allowed; assign with `x = ...`",
    ast.Starred: "star arguments are not allowed",
    ast.Await: "await is not allowed in a program",
    ast.Yield: "yield is not allowed in a program",
    ast.YieldFrom: "yield is not allowed in a program",
}

ErrorFn = Callable[[ast.AST, str], Exception]


def names_in(node: ast.AST) -> set[str]:
    """Every identifier ``node`` writes: variables, parameters, function names."""
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.arg):
            names.add(sub.arg)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
    return names


class FreshNames:
    """Temporary names ``t1, t2, ...``, skipping ``taken``, op and constant names."""

    def __init__(self, taken: set[str]):
        self.taken = set(taken) | set(OPS) | set(CONSTANTS)
        self.count = 0

    def __call__(self) -> str:
        while True:
            self.count += 1
            name = f"t{self.count}"
            if name not in self.taken:
                self.taken.add(name)
                return name


def number(node: ast.expr) -> float | None:
    """The value of a numeric literal, optionally signed (``-0.5``); else None."""
    sign = 1.0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        node = node.operand
    if (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool)):
        try:
            return sign * float(node.value)
        except OverflowError:
            return math.inf
    return None


def describe_forbidden(node: ast.expr) -> str:
    """Why ``node`` cannot appear in a program expression."""
    if isinstance(node, ast.Constant):
        return f"only numbers are allowed as constants, not {type(node.value).__name__}"
    for kind, reason in _FORBIDDEN_EXPRESSIONS.items():
        if isinstance(node, kind):
            return reason
    return (f"{type(node).__name__} expressions are not allowed; arguments are variables, "
            "numbers or ops")


class Flattener:
    """Turns one assigned expression into one-op statements.

    Args:
        fresh: gives the temporaries' names; shared by all statements of a program.
        error: ``error(node, reason)`` builds the exception that locates ``node``.
    """

    def __init__(self, fresh: FreshNames, error: ErrorFn):
        self.fresh = fresh
        self.error = error

    def assign(self, target: str, value: ast.expr, defined: set[str], line: int,
               col: int) -> list[Statement]:
        """``target = value``: the inner ops' statements, then the one assigning ``target``."""
        pending: list[Statement] = []
        op, args = self.op(value, defined, pending)
        pending.append(Statement(target, op, args, line, col))
        return pending

    def augmented(self, target: str, symbol: str, value: ast.expr, defined: set[str],
                  line: int, col: int) -> list[Statement]:
        """``target <symbol>= value``, that is ``target = target <symbol> value``."""
        pending: list[Statement] = []
        args = (Var(target), self.arg(value, defined, pending))
        pending.append(Statement(target, INFIX[symbol], args, line, col))
        return pending

    def op(self, value: ast.expr, defined: set[str],
           pending: list[Statement]) -> tuple[str, tuple[Arg, ...]]:
        """The outermost op of ``value`` and its arguments; inner ops go to ``pending``."""
        if isinstance(value, ast.BinOp):
            symbol = BINOPS.get(type(value.op))
            if symbol is None:
                shown = _PY_BINOP_SYMBOLS.get(type(value.op), type(value.op).__name__)
                raise self.error(value, f"operator '{shown}' is not allowed; only + - * / "
                                        "(use power(x, y) for powers)")
            left = self.arg(value.left, defined, pending)
            return INFIX[symbol], (left, self.arg(value.right, defined, pending))
        if isinstance(value, ast.Call):
            return self.call(value, defined, pending)
        nested = (ast.BinOp, ast.Call, ast.UnaryOp)
        if isinstance(value, ast.UnaryOp) and number(value) is None:
            if isinstance(value.op, ast.USub):
                return "negative", (self.arg(value.operand, defined, pending),)
            if not isinstance(value.op, ast.UAdd):
                shown = _PY_UNARY_SYMBOLS.get(type(value.op), type(value.op).__name__)
                raise self.error(value, f"operator '{shown}' is not allowed")
            if isinstance(value.operand, nested):
                return self.op(value.operand, defined, pending)
        if isinstance(value, (ast.Name, ast.Constant, ast.UnaryOp)):
            raise self.error(value, "a statement applies one op: `x = op(a, ...)` or "
                                    "`x = a + b`; plain copies and literals are not statements")
        raise self.error(value, describe_forbidden(value))

    def call(self, value: ast.Call, defined: set[str],
             pending: list[Statement]) -> tuple[str, tuple[Arg, ...]]:
        if not isinstance(value.func, ast.Name):
            if isinstance(value.func, ast.Attribute):
                raise self.error(value.func, "attribute access is not allowed")
            raise self.error(value.func, "only ops of the registry may be called")
        name = value.func.id
        op = OPS.get(name)
        if op is None:
            raise self.error(value.func, f"unknown op '{name}'")
        if value.keywords:
            raise self.error(value.keywords[0], "keyword arguments are not allowed")
        if len(value.args) != op.arity:
            raise self.error(value, f"'{name}' takes {op.arity} argument(s), "
                                    f"got {len(value.args)}")
        return name, tuple(self.arg(arg, defined, pending) for arg in value.args)

    def arg(self, node: ast.expr, defined: set[str], pending: list[Statement]) -> Arg:
        """A variable or constant; a nested op becomes a temporary in ``pending``."""
        if isinstance(node, ast.Name):
            if node.id in CONSTANTS:
                return NamedConst(node.id)
            if node.id not in defined:
                raise self.error(node, f"'{node.id}' is used before it is assigned")
            return Var(node.id)
        value = number(node)
        if value is not None:
            if not math.isfinite(value):
                raise self.error(node, f"constant {value!r} is not finite")
            return Const(value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
            return self.arg(node.operand, defined, pending)
        if isinstance(node, (ast.BinOp, ast.Call, ast.UnaryOp)):
            op, args = self.op(node, defined, pending)
            target = self.fresh()
            pending.append(Statement(target, op, args, node.lineno, node.col_offset + 1))
            return Var(target)
        raise self.error(node, describe_forbidden(node))
