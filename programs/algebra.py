"""Programs as sympy expressions, and their canonical form.

A program is straight-line code, so each of its outputs (the update, and the new value of
each state slot) is one expression in the step's inputs: the real symbols ``w``, ``g``,
``lr`` (a schedule value, so taken as nonnegative) and ``s1, s2, ...``, the *incoming*
value of each state slot. :func:`to_sympy` executes the program symbolically with the
registry's sympy meanings; :func:`canonicalize` then applies the rewrites that sympy's
automatic evaluation does not do by itself:

* ``x / |x|`` (and so ``x / sqrt(x * x)``, ``x / sqrt(square(x))``, whose sympy meaning
  is ``x / |x|``) becomes ``sign(x)``; exact up to the safe-division epsilon, which the
  sympy meanings leave out (at ``x = 0`` both sides are 0);
* ``sign(c * x)`` becomes ``sign(c) * sign(x)``, and the sign of a combination of two
  terms ``a * x + b * y`` (``x``, ``y`` symbols or function values) is taken of the
  combination scaled so its coefficients sum to 1 (an ``interp``): ``sign`` does not see
  positive scale;
* float exponents that are whole or half numbers become exact (``|x| ** 2.0 -> x ** 2``).

Sympy's automatic evaluation already folds constants, drops identities (``x * 1``,
``x + 0``), flattens and collects linear combinations (so chains of ``interp`` with
constant weights collapse into one linear combination) and turns ``sqrt(x ** 2)`` into
``|x|``. Constants become sympy floats, except whole numbers and multiples of 1/8, which
become exact rationals so that identities and powers simplify.

Every step is bounded: an expression over :data:`MAX_NODES` nodes, or anything that is
not a finite real (``zoo``, ``nan``, complex numbers), raises :class:`AlgebraError`, and
the caller leaves the program as it was.

Example:
    >>> from programs.parser import parse
    >>> p = parse('''def train(w, g, m, lr):
    ...     a = interp(g, m, 0.9)
    ...     b = a * a
    ...     r = sqrt(b)
    ...     u = a / r
    ...     m = interp(g, m, 0.99)
    ...     return u, m''')
    >>> s = canonicalize(to_sympy(p))
    >>> s.update
    sign(0.1*g + 0.9*s1)
    >>> round_floats(s.states[0])
    0.01*g + 0.99*s1
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy

from .ops import CONSTANTS, OPS
from .program import Const, NamedConst, Program, Var

MAX_NODES = 800
"""The most nodes an expression may have (counted as a tree) before algebra gives up."""

DIGITS = 12
"""Significant digits kept by :func:`round_floats` (the algebra's float noise is ~1e-15)."""

W = sympy.Symbol("w", real=True)
G = sympy.Symbol("g", real=True)
LR = sympy.Symbol("lr", nonnegative=True)
EPS_SYMBOL = CONSTANTS["eps"][1]


def slot_symbol(k: int) -> sympy.Symbol:
    """The symbol of state slot ``k``'s incoming value (0-based ``k``; named ``s{k+1}``)."""
    return sympy.Symbol(f"s{k + 1}", real=True)


class AlgebraError(ValueError):
    """The algebra cannot treat this program: too large, or not a finite real."""


@dataclass(frozen=True)
class Symbolic:
    """A program's outputs as expressions of its inputs.

    Attributes:
        params: the program's parameter names (weight, gradient, slots, learning rate).
        update: the update.
        states: the new value of each state slot, in slot order.
        slots: the symbol of each slot's incoming value, in slot order.
    """

    params: tuple[str, ...]
    update: sympy.Expr
    states: tuple[sympy.Expr, ...]
    slots: tuple[sympy.Symbol, ...]

    @property
    def slot_names(self) -> tuple[str, ...]:
        return self.params[2:-1]

    def outputs(self) -> tuple[sympy.Expr, ...]:
        return (self.update, *self.states)

    def map(self, fn) -> "Symbolic":
        """The same with ``fn`` applied to every output."""
        return replace(self, update=fn(self.update), states=tuple(fn(e) for e in self.states))

    def without_slots(self, drop: set[int]) -> "Symbolic":
        """The same without the slots numbered in ``drop`` (their symbols must be gone)."""
        keep = [k for k in range(len(self.slots)) if k not in drop]
        params = (*self.params[:2], *(self.slot_names[k] for k in keep), self.params[-1])
        return Symbolic(params, self.update, tuple(self.states[k] for k in keep),
                        tuple(self.slots[k] for k in keep))


def tree_size(expr: sympy.Basic, limit: int = MAX_NODES) -> int:
    """Nodes of ``expr`` counted as a tree, stopping once past ``limit``."""
    count = 0
    for _ in sympy.preorder_traversal(expr):
        count += 1
        if count > limit:
            break
    return count


def check_expression(expr: sympy.Basic, what: str = "an expression") -> sympy.Basic:
    """``expr`` when it is small enough and a finite real; :class:`AlgebraError` otherwise."""
    if tree_size(expr) > MAX_NODES:
        raise AlgebraError(f"{what} grows past {MAX_NODES} nodes")
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I):
        raise AlgebraError(f"{what} is not a finite real (division by zero or a complex value)")
    return expr


def constant(value: float) -> sympy.Expr:
    """The sympy number of a program constant: exact for multiples of 1/8, else a float."""
    if abs(value) < 2.0 ** 40 and float(value * 8).is_integer():
        return sympy.Rational(int(value * 8), 8)
    return sympy.Float(value)


def to_sympy(program: Program) -> Symbolic:
    """Execute ``program`` symbolically: each output as an expression of the inputs.

    Raises:
        AlgebraError: an expression grows too large or is not a finite real.
    """
    slots = tuple(slot_symbol(k) for k in range(program.num_state_slots))
    env = {program.weight: W, program.gradient: G, program.learning_rate: LR}
    env.update(zip(program.state_slots, slots))
    for statement in program.statements:
        args = []
        for arg in statement.args:
            if isinstance(arg, Var):
                args.append(env[arg.name])
            elif isinstance(arg, Const):
                args.append(constant(arg.value))
            elif isinstance(arg, NamedConst):
                args.append(CONSTANTS[arg.name][1])
        try:
            value = OPS[statement.op].sympy_fn(*args)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError) as err:
            raise AlgebraError(f"sympy cannot evaluate {statement.op}: {err}") from None
        env[statement.target] = check_expression(value, f"'{statement.target}'")
    outputs = [env[name] for name in program.returns]
    return Symbolic(program.params, outputs[0], tuple(outputs[1:]), slots)


# ---------------------------------------------------------------------------------------
# Canonical form.

def canonical(expr: sympy.Expr, notes: list | None = None) -> sympy.Expr:
    """``expr`` with the rewrites of this module applied bottom-up.

    Args:
        expr: the expression.
        notes: where to append one line per rewrite done (optional).
    """
    memo: dict = {}
    notes = [] if notes is None else notes

    def visit(node):
        if node in memo:
            return memo[node]
        if node.is_Atom:
            result = node
        else:
            args = tuple(visit(a) for a in node.args)
            result = node.func(*args) if args != node.args else node
            result = _rewrite(result, notes)
        memo[node] = result
        return result

    try:
        return check_expression(visit(expr), "the canonical form")
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, RecursionError) as err:
        if isinstance(err, AlgebraError):
            raise
        raise AlgebraError(f"sympy failed: {type(err).__name__}: {err}") from None


def canonicalize(symbolic: Symbolic, notes: list | None = None) -> Symbolic:
    """Every output of ``symbolic`` in canonical form (``notes`` as in :func:`canonical`)."""
    return symbolic.map(lambda e: canonical(e, notes))


def _rewrite(node, notes: list):
    result = node
    if isinstance(node, sympy.Pow):
        result = _exact_exponent(node)
    elif isinstance(node, sympy.Mul):
        result = _quotient_to_sign(node)
        if result != node:
            notes.append("a quotient x / |x| is sign(x)")
    elif isinstance(node, sympy.sign):
        result = _normalised_sign(node.args[0])
        if result != node:
            notes.append("sign ignores positive scale: sign(c * x) = sign(c) * sign(x)")
    return result


def _exact_exponent(node: sympy.Pow):
    base, exponent = node.args
    if isinstance(exponent, sympy.Float) and float(exponent * 2).is_integer():
        return base ** sympy.Rational(int(exponent * 2), 2)
    return node


def _quotient_to_sign(node: sympy.Mul):
    """``x**k * |x|**-k`` (and ``|x|**k * x**-k``), k odd, become ``sign(x)``."""
    coefficient, factors = node.as_coeff_mul()
    powers: dict = {}
    for factor in factors:
        base, exponent = factor.as_base_exp()
        powers[base] = powers.get(base, 0) + exponent
    changed = False
    for base in list(powers):
        if not isinstance(base, sympy.Abs) or base not in powers:
            continue
        inner, k = base.args[0], powers[base]
        other = powers.get(inner, 0)
        if not (k.is_Integer and getattr(other, "is_Integer", False)) or k == 0:
            continue
        k, other = int(k), int(other)
        if k % 2 == 0 or other == 0 or (k > 0) == (other > 0):
            continue
        cancel = min(abs(k), abs(other))
        if cancel % 2 == 0:
            cancel -= 1
        sign_k = 1 if other > 0 else -1
        powers[inner] = other - sign_k * cancel
        powers[base] = k + sign_k * cancel
        new_sign = _normalised_sign(inner)
        powers[new_sign] = powers.get(new_sign, 0) + 1
        changed = True
    if not changed:
        return node
    return sympy.Mul(coefficient, *(b ** e for b, e in powers.items() if e != 0))


def _normalised_sign(arg):
    """``sign(arg)`` with positive scale taken out of ``arg``."""
    coefficient, rest = arg.as_coeff_Mul()
    if coefficient.is_Number and coefficient != 1 and coefficient != 0:
        return sympy.sign(coefficient) * _normalised_sign(rest)
    if isinstance(arg, sympy.Add) and len(arg.args) == 2:
        terms = [t.as_coeff_Mul() for t in arg.args]
        if all(c.is_Number and not isinstance(t, (sympy.Add, sympy.Mul)) for c, t in terms):
            total = sum((c for c, _ in terms), sympy.Integer(0))
            if total != 0 and abs(float(total) - 1.0) > 1e-12:
                scaled = sympy.Add(*(c / abs(total) * t for c, t in terms))
                return sympy.sign(total) * sympy.sign(scaled)
    if isinstance(arg, sympy.sign):
        return arg
    return sympy.sign(arg)


# ---------------------------------------------------------------------------------------
# Helpers for the callers: numbers, linear forms.

def round_floats(expr: sympy.Expr, digits: int = DIGITS) -> sympy.Expr:
    """``expr`` with every float rounded to ``digits`` significant digits."""
    floats = {f: sympy.Float(float(f"{float(f):.{digits}g}")) for f in expr.atoms(sympy.Float)}
    return expr.xreplace(floats) if floats else expr


def linear_form(expr: sympy.Expr, atoms) -> dict | None:
    """Coefficients of ``expr`` as a combination of ``atoms`` (and 1) with numbers, else None.

    ``1`` stands for a constant term. Example: ``linear_form(2*g + 3, [g])`` is
    ``{g: 2, 1: 3}``.
    """
    atoms = set(atoms)
    if tree_size(expr) > MAX_NODES:
        return None
    expanded = sympy.expand(expr, power_base=False, power_exp=False, log=False,
                            multinomial=False)
    if tree_size(expanded) > MAX_NODES:
        return None
    result: dict = {}
    for term, coefficient in expanded.as_coefficients_dict().items():
        if not coefficient.is_Number:
            return None
        if term == 1 or term in atoms:
            result[term] = result.get(term, 0) + coefficient
        else:
            return None
    return {k: v for k, v in result.items() if v != 0}

