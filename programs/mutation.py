"""Mutation: the paper's three kinds, retried until the child passes abstract execution.

* **insert** a statement at a random place, with a random op and valid arguments,
  assigning a fresh variable or overwriting an existing one;
* **delete** a statement;
* **modify** one argument: another variable of a fitting kind, or a constant. A new
  constant is drawn from N(0, 1) (now and then a named constant, ``pi``, ``e``,
  ``eps``); an existing constant is instead, half the time, multiplied by ``2 ** a``,
  ``a ~ N(0, 1)``.

The kind is drawn by configurable weights. A child must pass
:func:`programs.kinds.infer_kinds` and stay within ``max_length`` statements; the draw is
repeated until it does. All randomness comes from the ``random.Random`` passed in, so the
same seed gives the same children.

Example:
    >>> import random
    >>> from programs.seed_programs import load_seed
    >>> mutator = Mutator()
    >>> child_a, how_a = mutator(load_seed("adamw"), random.Random(7))
    >>> child_b, how_b = mutator(load_seed("adamw"), random.Random(7))
    >>> child_a == child_b and how_a == how_b
    True
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from .kinds import infer_kinds, input_kinds, is_valid
from .ops import CONSTANTS, OPS, TENSOR
from .printer import format_arg, format_statement
from .program import Arg, Const, NamedConst, Program, Statement, Var

KINDS = ("insert", "delete", "modify")
_OP_NAMES = tuple(sorted(OPS))
_NAMED = tuple(sorted(CONSTANTS))
MAX_CONSTANT = 1e30


@dataclass(frozen=True)
class MutationConfig:
    """How children are made.

    Attributes:
        insert, delete, modify: relative weights of the three kinds.
        max_length: the most statements a child may have.
        constant_prob: chance that a new argument is a constant rather than a variable.
        named_constant_prob: chance that a new constant is ``pi``, ``e`` or ``eps``.
        perturb_prob: chance that modifying a constant scales it by ``2 ** N(0, 1)``
            rather than replacing the argument.
        new_variable_prob: chance that an inserted statement assigns a fresh variable
            (otherwise it overwrites an existing one).
        max_tries: draws before giving up on a program (then ``ValueError``).
    """

    insert: float = 1.0
    delete: float = 1.0
    modify: float = 1.0
    max_length: int = 30
    constant_prob: float = 0.2
    named_constant_prob: float = 0.1
    perturb_prob: float = 0.5
    new_variable_prob: float = 0.5
    max_tries: int = 200

    def __post_init__(self):
        weights = (self.insert, self.delete, self.modify)
        if min(weights) < 0 or sum(weights) <= 0:
            raise ValueError("mutation weights must be >= 0 with a positive sum")
        if self.max_length < 1:
            raise ValueError("max_length must be >= 1")
        for name in ("constant_prob", "named_constant_prob", "perturb_prob",
                     "new_variable_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]")
        if self.max_tries < 1:
            raise ValueError("max_tries must be >= 1")


@dataclass(frozen=True)
class Mutation:
    """What a mutation did: its kind and a one-line description."""

    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


class Mutator:
    """Makes one valid child of a valid program: ``child, mutation = mutator(parent, rng)``.

    ``invalid`` counts the draws that abstract execution rejected (then redrawn).
    """

    def __init__(self, config: MutationConfig | None = None):
        self.config = config or MutationConfig()
        self.invalid = 0  # draws rejected by abstract execution, over this mutator's life

    def __call__(self, parent: Program, rng: random.Random) -> tuple[Program, Mutation]:
        config = self.config
        scopes = _scopes(parent)
        for _ in range(config.max_tries):
            kind = self._pick_kind(parent, rng)
            if kind is None:
                break
            made = getattr(self, f"_{kind}")(parent, scopes, rng)
            if made is None:
                continue
            child, mutation = made
            if len(child) > config.max_length or child == parent:
                continue
            if is_valid(child):
                return child, mutation
            self.invalid += 1
        raise ValueError(f"no valid child after {config.max_tries} tries")

    def _pick_kind(self, parent: Program, rng: random.Random) -> str | None:
        config = self.config
        weights = [config.insert if len(parent) < config.max_length else 0.0,
                   config.delete if len(parent) > 0 else 0.0,
                   config.modify if any(s.args for s in parent.statements) else 0.0]
        allowed = [(kind, weight) for kind, weight in zip(KINDS, weights) if weight > 0]
        if not allowed:
            return None
        kinds, weights = zip(*allowed)
        return rng.choices(kinds, weights)[0]

    def _insert(self, parent, scopes, rng):
        position = rng.randint(0, len(parent))
        scope = scopes[position]
        op = OPS[rng.choice(_OP_NAMES)]
        args = []
        for wanted in op.arg_kinds:
            arg = self._new_arg(scope, wanted, rng)
            if arg is None:
                return None
            args.append(arg)
        if rng.random() < self.config.new_variable_prob:
            target = _fresh_name(parent)
        else:
            target = rng.choice(sorted(scope))
        statement = Statement(target, op.name, tuple(args))
        statements = list(parent.statements)
        statements.insert(position, statement)
        return (parent.with_statements(statements),
                Mutation("insert", f"line {position + 1}: {format_statement(statement)}"))

    def _delete(self, parent, scopes, rng):
        position = rng.randrange(len(parent))
        removed = parent.statements[position]
        statements = parent.statements[:position] + parent.statements[position + 1:]
        return (parent.with_statements(statements),
                Mutation("delete", f"line {position + 1}: {format_statement(removed)}"))

    def _modify(self, parent, scopes, rng):
        candidates = [i for i, s in enumerate(parent.statements) if s.args]
        position = rng.choice(candidates)
        statement = parent.statements[position]
        index = rng.randrange(len(statement.args))
        old = statement.args[index]
        wanted = OPS[statement.op].arg_kinds[index]
        if isinstance(old, Const) and rng.random() < self.config.perturb_prob:
            try:
                scaled = old.value * 2.0 ** rng.gauss(0.0, 1.0)
            except OverflowError:
                return None
            new: Arg | None = _constant(scaled)
        else:
            new = self._new_arg(scopes[position], wanted, rng, exclude=old)
        if new is None or new == old:
            return None
        args = statement.args[:index] + (new,) + statement.args[index + 1:]
        changed = Statement(statement.target, statement.op, args)
        statements = list(parent.statements)
        statements[position] = changed
        return (parent.with_statements(statements),
                Mutation("modify", f"line {position + 1} argument {index + 1}: "
                                   f"{format_arg(old)} -> {format_arg(new)}"))

    def _new_arg(self, scope: dict[str, str], wanted: str, rng: random.Random,
                 exclude: Arg | None = None) -> Arg | None:
        config = self.config
        if wanted != TENSOR and rng.random() < config.constant_prob:
            if rng.random() < config.named_constant_prob:
                return NamedConst(rng.choice(_NAMED))
            return _constant(rng.gauss(0.0, 1.0))
        names = [name for name, kind in scope.items()
                 if (wanted != TENSOR or kind == TENSOR)
                 and not (isinstance(exclude, Var) and exclude.name == name)]
        if not names:
            return None
        return Var(rng.choice(sorted(names)))


def mutate(parent: Program, rng: random.Random,
           config: MutationConfig | None = None) -> tuple[Program, Mutation]:
    """One valid child of ``parent`` (see :class:`Mutator`)."""
    return Mutator(config)(parent, rng)


def _constant(value: float) -> Const | None:
    """``value`` to 4 significant digits, or None when it is not a usable number."""
    try:
        value = float(f"{value:.4g}")
    except OverflowError:
        return None
    return Const(value) if math.isfinite(value) and abs(value) <= MAX_CONSTANT else None


def _scopes(program: Program) -> list[dict[str, str]]:
    """For each position 0..n, the variables readable there and their kinds."""
    kinds = infer_kinds(program)
    scope = input_kinds(program)
    scopes = [dict(scope)]
    for statement, kind in zip(program.statements, kinds):
        scope[statement.target] = kind
        scopes.append(dict(scope))
    return scopes


def _fresh_name(program: Program) -> str:
    taken = set(program.params) | {s.target for s in program.statements}
    index = 1
    while f"x{index}" in taken:
        index += 1
    return f"x{index}"
