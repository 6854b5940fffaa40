"""The program AST: a straight-line optimizer step as immutable data.

A program is ``def train(w, g, <state slots...>, lr): <statements> return update, <states>``.
Parameters are positional: the weight, the gradient, one name per state slot, and the
learning-rate schedule value. Each statement assigns one op applied to arguments; an
argument is a variable, a float constant, or a named constant (``pi``, ``e``, ``eps``).

Programs are frozen dataclasses made of tuples, so they hash, compare and can be shared
between threads. Source locations are kept for messages but are not part of equality.

Example:
    >>> p = Program(params=("w", "g", "m", "lr"),
    ...             statements=(Statement("m", "interp", (Var("g"), Var("m"), Const(0.9))),
    ...                         Statement("u", "sign", (Var("m"),))),
    ...             returns=("u", "m"))
    >>> p.state_slots, p.num_state_slots
    (('m',), 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Iterator, Union

WEIGHT, GRADIENT, LEARNING_RATE = "w", "g", "lr"


@dataclass(frozen=True)
class Var:
    """A reference to a variable by name."""

    name: str


@dataclass(frozen=True)
class Const:
    """A finite float literal."""

    value: float

    def __post_init__(self):
        if not math.isfinite(self.value):
            raise ValueError(f"constant {self.value!r} is not finite")
        # Normalise -0.0 and ints so that equal constants compare and print equally.
        object.__setattr__(self, "value", float(self.value) + 0.0)


@dataclass(frozen=True)
class NamedConst:
    """One of the named constants of :data:`programs.ops.CONSTANTS` (``pi``, ``e``, ``eps``)."""

    name: str


Arg = Union[Var, Const, NamedConst]


@dataclass(frozen=True)
class Statement:
    """``target = op(*args)``; ``line``/``col`` locate it in its source (not compared)."""

    target: str
    op: str
    args: tuple[Arg, ...]
    line: int | None = field(default=None, compare=False)
    col: int | None = field(default=None, compare=False)

    def reads(self) -> Iterator[str]:
        """Names of the variables this statement reads, in argument order."""
        for arg in self.args:
            if isinstance(arg, Var):
                yield arg.name


@dataclass(frozen=True)
class Program:
    """A whole optimizer program.

    Attributes:
        params: parameter names: weight, gradient, the state slots, learning rate.
        statements: the body, in order.
        returns: names returned: the update, then the new value of each state slot.
        name: the function name (``train``).
        return_line: line of the ``return`` in its source (not compared).
    """

    params: tuple[str, ...]
    statements: tuple[Statement, ...]
    returns: tuple[str, ...]
    name: str = "train"
    return_line: int | None = field(default=None, compare=False)

    def __post_init__(self):
        if len(self.params) < 3:
            raise ValueError("a program takes at least (w, g, lr)")
        if len(self.returns) != len(self.params) - 2:
            raise ValueError("a program returns the update and one value per state slot")

    @property
    def weight(self) -> str:
        return self.params[0]

    @property
    def gradient(self) -> str:
        return self.params[1]

    @property
    def learning_rate(self) -> str:
        return self.params[-1]

    @property
    def state_slots(self) -> tuple[str, ...]:
        """Names of the state-slot parameters, in slot order."""
        return self.params[2:-1]

    @property
    def num_state_slots(self) -> int:
        return len(self.params) - 3

    def __len__(self) -> int:
        return len(self.statements)

    def with_statements(self, statements, returns=None) -> "Program":
        """A copy with another body (and optionally other returns)."""
        return replace(self, statements=tuple(statements),
                       returns=self.returns if returns is None else tuple(returns))


def default_params(num_state_slots: int = 2) -> tuple[str, ...]:
    """The conventional parameter names for ``num_state_slots`` state slots.

    Example:
        >>> default_params(2)
        ('w', 'g', 'm', 'v', 'lr')
        >>> default_params(3)
        ('w', 'g', 'm', 'v', 's2', 'lr')
    """
    names = ["m", "v"] + [f"s{i}" for i in range(2, num_state_slots)]
    return (WEIGHT, GRADIENT, *names[:num_state_slots], LEARNING_RATE)
