"""Abstract execution: the kind (tensor or scalar) of every variable, without numbers.

The weight, the gradient and the state slots are tensors; ``lr`` and constants are
scalars. Element-wise ops give a tensor when any argument is one; reductions take
tensors and give scalars. A program is valid when every op gets arguments of the kinds it
accepts, every variable is assigned before it is read, and it returns tensors (the update
and each state slot are shaped like the parameter).

Example:
    >>> from programs.parser import parse
    >>> p = parse("def train(w, g, lr):\\n    n = norm(g)\\n    u = g / n\\n    return u")
    >>> infer_kinds(p)
    ('scalar', 'tensor')
    >>> bad = parse("def train(w, g, lr):\\n    n = norm(lr)\\n    return g")
    >>> infer_kinds(bad)
    Traceback (most recent call last):
    ...
    programs.errors.ProgramError: <program>:2:5: 'norm' needs a tensor as argument 1, got the scalar 'lr'
"""

from __future__ import annotations

from .errors import ProgramError
from .ops import OPS, SCALAR, TENSOR
from .program import Const, NamedConst, Program, Var


def input_kinds(program: Program) -> dict[str, str]:
    """Kinds of the parameters: tensors, except the learning rate."""
    kinds = {name: TENSOR for name in program.params}
    kinds[program.learning_rate] = SCALAR
    return kinds


def infer_kinds(program: Program, filename: str | None = None) -> tuple[str, ...]:
    """The result kind of each statement, or a :class:`ProgramError` saying why not.

    Args:
        program: the program to check.
        filename: named in errors.
    """
    env = input_kinds(program)
    result = []
    for statement in program.statements:
        op = OPS.get(statement.op)
        if op is None:
            raise _error(statement, filename, f"unknown op '{statement.op}'")
        if len(statement.args) != op.arity:
            raise _error(statement, filename, f"'{op.name}' takes {op.arity} argument(s), "
                                              f"got {len(statement.args)}")
        arg_kinds = []
        for position, (arg, wanted) in enumerate(zip(statement.args, op.arg_kinds), 1):
            if isinstance(arg, Var):
                kind = env.get(arg.name)
                if kind is None:
                    raise _error(statement, filename,
                                 f"'{arg.name}' is used before it is assigned")
            elif isinstance(arg, (Const, NamedConst)):
                kind = SCALAR
            else:
                raise _error(statement, filename, f"bad argument {arg!r}")
            if wanted == TENSOR and kind != TENSOR:
                shown = f"'{arg.name}'" if isinstance(arg, Var) else "a constant"
                raise _error(statement, filename, f"'{op.name}' needs a tensor as argument "
                                                  f"{position}, got the scalar {shown}")
            arg_kinds.append(kind)
        kind = op.result_kind(tuple(arg_kinds))
        env[statement.target] = kind
        result.append(kind)
    for position, name in enumerate(program.returns):
        kind = env.get(name)
        what = "the update" if position == 0 else f"state slot {position}"
        if kind is None:
            raise ProgramError(f"'{name}' is returned before it is assigned", filename,
                               program.return_line)
        if kind != TENSOR:
            raise ProgramError(f"{what} must be a tensor, but '{name}' is a scalar",
                               filename, program.return_line)
    return tuple(result)


def check(program: Program, filename: str | None = None) -> Program:
    """``program`` itself when it is valid; raises :class:`ProgramError` otherwise."""
    infer_kinds(program, filename)
    return program


def is_valid(program: Program) -> bool:
    """Whether abstract execution accepts ``program``."""
    try:
        infer_kinds(program)
    except ProgramError:
        return False
    return True


def _error(statement, filename, reason) -> ProgramError:
    return ProgramError(reason, filename, statement.line, statement.col)

