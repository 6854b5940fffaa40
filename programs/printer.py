"""Print a program as canonical source: ``parse(to_source(p)) == p`` for every program.

Canonical means: four-space indentation, infix ``+ - * /``, every other op as a call,
constants in Python's shortest round-tripping float form (``0.9``, ``1e-08``).

Example:
    >>> from programs.parser import parse
    >>> src = "def train(w, g, lr):\\n  u = add(g, 1)\\n  return u"
    >>> print(to_source(parse(src)))
    def train(w, g, lr):
        u = g + 1.0
        return u
"""

from __future__ import annotations

from .ops import OPS
from .program import Arg, Const, NamedConst, Program, Statement, Var


def format_arg(arg: Arg) -> str:
    """Source text of one argument."""
    if isinstance(arg, Var):
        return arg.name
    if isinstance(arg, NamedConst):
        return arg.name
    if isinstance(arg, Const):
        return repr(arg.value)
    raise TypeError(f"not an argument: {arg!r}")


def format_statement(statement: Statement) -> str:
    """Source text of one statement, without indentation."""
    op = OPS[statement.op]
    args = [format_arg(a) for a in statement.args]
    if op.symbol:
        return f"{statement.target} = {args[0]} {op.symbol} {args[1]}"
    return f"{statement.target} = {statement.op}({', '.join(args)})"


def to_source(program: Program) -> str:
    """Canonical source text of ``program`` (no trailing newline)."""
    lines = [f"def {program.name}({', '.join(program.params)}):"]
    lines += ["    " + format_statement(s) for s in program.statements]
    lines.append("    return " + ", ".join(program.returns))
    return "\n".join(lines)
