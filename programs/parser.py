"""Parse program text into a :class:`~programs.program.Program`, against a whitelist.

The text is read with :func:`ast.parse` and walked; nothing is ever executed. Anything
outside the language is rejected with a :class:`~programs.errors.ProgramError` that names
the file, the line, the column and the reason.

Accepted: one ``def NAME(w, g, <state...>, lr):`` (an optional docstring before it and as
its first statement), statements ``x = op(a, b)``, ``x = a <+ - * /> b`` and
``x += a`` (same as ``x = x + a``), where arguments are variables assigned earlier,
parameters, float/int literals (negative too), the named constants ``pi``, ``e``,
``eps``, or nested expressions of these (``x = sign(m * 0.9 + g) + -w``), which
:mod:`programs.flatten` turns into one-op statements; then ``return update, <state...>``.

Example:
    >>> p = parse("def train(w, g, m, lr):\\n    m = interp(g, m, 0.9)\\n    u = sign(m)\\n"
    ...           "    return u, m\\n")
    >>> [s.op for s in p.statements]
    ['interp', 'sign']
    >>> parse("def train(w, g, lr):\\n    import os\\n    return g\\n", "bad.py")
    Traceback (most recent call last):
    ...
    programs.errors.ProgramError: bad.py:2:5: imports are not allowed in a program
"""

from __future__ import annotations

import ast
from pathlib import Path

from .errors import ProgramError
from .flatten import BINOPS, Flattener, FreshNames, describe_forbidden, names_in
from .ops import CONSTANTS
from .program import Program, Statement

_FORBIDDEN_STATEMENTS = {
    ast.Import: "imports are not allowed in a program",
    ast.ImportFrom: "imports are not allowed in a program",
    ast.For: "loops are not allowed: a program is straight-line code",
    ast.AsyncFor: "loops are not allowed: a program is straight-line code",
    ast.While: "loops are not allowed: a program is straight-line code",
    ast.If: "branches are not allowed: a program is straight-line code",
    ast.Try: "try/except is not allowed in a program",
    ast.With: "with-blocks are not allowed in a program",
    ast.FunctionDef: "nested function definitions are not allowed",
    ast.AsyncFunctionDef: "nested function definitions are not allowed",
    ast.ClassDef: "class definitions are not allowed",
    ast.Global: "global declarations are not allowed",
    ast.Nonlocal: "nonlocal declarations are not allowed",
    ast.Delete: "del is not allowed in a program",
    ast.Assert: "assert is not allowed in a program",
    ast.Raise: "raise is not allowed in a program",
    ast.Pass: "pass is not allowed in a program",
    ast.AnnAssign: "annotated assignments are not allowed; write `x = op(...)`",
}


def parse(text: str, filename: str | None = None) -> Program:
    """Parse one program from source text.

    Args:
        text: the program source.
        filename: named in error messages.

    Raises:
        ProgramError: the text is not a program of the language.
    """
    return _Parser(filename or "<program>").parse_module(text)


def parse_file(path: str | Path) -> Program:
    """Parse the program in file ``path``.

    Raises:
        ProgramError: the file is missing, unreadable, or not a valid program.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProgramError("no such file", str(path)) from None
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise ProgramError(f"cannot read the file: {reason}", str(path)) from None
    return parse(text, str(path))


def _is_docstring(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


class _Parser:
    def __init__(self, filename: str):
        self.filename = filename

    def error(self, node: ast.AST | None, reason: str) -> ProgramError:
        line = getattr(node, "lineno", None)
        col = getattr(node, "col_offset", None)
        return ProgramError(reason, self.filename, line, None if col is None else col + 1)

    def parse_module(self, text: str) -> Program:
        try:
            module = ast.parse(text, filename=self.filename)
        except SyntaxError as err:
            col = err.offset if err.offset else None
            raise ProgramError(f"syntax error: {err.msg}", self.filename,
                               err.lineno, col) from None
        except ValueError as err:  # e.g. null bytes in the source
            raise ProgramError(f"syntax error: {err}", self.filename) from None
        except (RecursionError, MemoryError):
            raise ProgramError("syntax error: the program is nested too deeply",
                               self.filename) from None
        body = list(module.body)
        if body and _is_docstring(body[0]):
            body = body[1:]
        if not body:
            raise ProgramError("no program: expected `def train(w, g, m, v, lr): ...`",
                               self.filename, 1, 1)
        for node in body:
            if not isinstance(node, ast.FunctionDef):
                raise self.error(node, _FORBIDDEN_STATEMENTS.get(
                    type(node), "only `def train(...)` and a docstring may appear at "
                                "module level"))
        if len(body) > 1:
            raise self.error(body[1], "a program file holds exactly one function")
        return self.parse_function(body[0])

    def parse_function(self, fn: ast.FunctionDef) -> Program:
        if fn.decorator_list:
            raise self.error(fn.decorator_list[0], "decorators are not allowed")
        args = fn.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
            raise self.error(fn, "parameters must be plain names: (w, g, <state...>, lr)")
        if args.defaults:
            raise self.error(args.defaults[0], "parameters cannot have default values")
        if fn.returns is not None:
            raise self.error(fn.returns, "type annotations are not allowed")
        params = []
        for arg in args.args:
            if arg.annotation is not None:
                raise self.error(arg.annotation, "type annotations are not allowed")
            self.check_name(arg, arg.arg)
            if arg.arg in params:
                raise self.error(arg, f"parameter '{arg.arg}' appears twice")
            params.append(arg.arg)
        if len(params) < 3:
            raise self.error(fn, "a program takes (w, g, <state slots...>, lr): "
                                 f"at least 3 parameters, got {len(params)}")

        self.flattener = Flattener(FreshNames(names_in(fn)), self.error)
        body = list(fn.body)
        if body and _is_docstring(body[0]):
            body = body[1:]
        defined = set(params)
        statements: list[Statement] = []
        returns = None
        return_line = None
        for node in body:
            if returns is not None:
                raise self.error(node, "code after return")
            if isinstance(node, ast.Return):
                returns = self.parse_return(node, defined, len(params) - 2)
                return_line = node.lineno
            else:
                try:
                    flat = self.parse_statement(node, defined)
                except RecursionError:
                    raise self.error(node, "this expression is nested too deeply") from None
                for statement in flat:
                    statements.append(statement)
                    defined.add(statement.target)
        if returns is None:
            raise self.error(fn, "the program must end with "
                                 f"`return update{', <state>' * (len(params) - 3)}`")
        return Program(tuple(params), tuple(statements), returns, fn.name, return_line)

    def check_name(self, node: ast.AST, name: str) -> None:
        if name in CONSTANTS:
            raise self.error(node, f"'{name}' is a named constant and cannot be assigned")

    def parse_return(self, node: ast.Return, defined: set[str], count: int) -> tuple[str, ...]:
        value = node.value
        if value is None:
            raise self.error(node, f"return must give {count} values: the update and "
                                   "the new state slots")
        elements = value.elts if isinstance(value, ast.Tuple) else [value]
        if len(elements) != count:
            raise self.error(node, f"return gives {len(elements)} value(s); expected {count}:"
                                   f" the update and {count - 1} state slot(s)")
        names = []
        for element in elements:
            if not isinstance(element, ast.Name):
                raise self.error(element, "return only variables: `return update, m, v`")
            if element.id not in defined:
                raise self.error(element, f"'{element.id}' is returned before it is assigned")
            names.append(element.id)
        return tuple(names)

    def parse_statement(self, node: ast.stmt, defined: set[str]) -> list[Statement]:
        """One source statement as one-op statements (nested expressions flattened)."""
        if type(node) in _FORBIDDEN_STATEMENTS:
            raise self.error(node, _FORBIDDEN_STATEMENTS[type(node)])
        if isinstance(node, ast.AugAssign):
            symbol = BINOPS.get(type(node.op))
            if symbol is None or not isinstance(node.target, ast.Name):
                raise self.error(node, "only `x += a`, `-=`, `*=`, `/=` on a variable are "
                                       "allowed")
            target = node.target.id
            if target not in defined:
                raise self.error(node.target, f"'{target}' is used before it is assigned")
            self.check_name(node.target, target)
            return self.flattener.augmented(target, symbol, node.value, defined,
                                            node.lineno, node.col_offset + 1)
        if not isinstance(node, ast.Assign):
            if _is_docstring(node) or isinstance(node, ast.Expr):
                raise self.error(node, "expression statements are not allowed; "
                                       "assign the result: `x = op(...)`")
            raise self.error(node, f"{type(node).__name__} statements are not allowed")
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            target = node.targets[0]
            if len(node.targets) == 1 and not isinstance(target, (ast.Tuple, ast.List)):
                raise self.error(target, describe_forbidden(target))
            raise self.error(node, "assign exactly one variable per statement: `x = op(...)`")
        target = node.targets[0].id
        self.check_name(node.targets[0], target)
        return self.flattener.assign(target, node.value, defined, node.lineno,
                                     node.col_offset + 1)
