"""Code generation from sympy expressions back into a program.

:func:`emit` turns a :class:`~programs.algebra.Symbolic` (the update and each new state
as expressions of the inputs) into statements of the program language, sharing every
repeated subexpression (each distinct expression is computed once). It recognises:

* two-term linear combinations ``(1 - a) * x + a * y`` as ``interp(x, y, a)``, and
  ``c1 * x + c2 * y`` as ``interp(x, y, c2 / (c1 + c2)) * (c1 + c2)`` when that is
  shorter; the gradient (or the term that reads it) goes first, as in ``interp(g, m, b)``;
* ``|x| ** 0.5`` as ``sqrt(x)``, ``log(|x|)`` as ``log(x)``, ``log(1 + |x|)`` as
  ``log1p(x)``, ``2 ** x`` as ``exp2(x)``, small whole powers as ``square``/``cube``;
* products as the tensor factors times one scalar factor (``lr * 0.001``), and
  quotients as one division.

The new states are emitted before the update, and a sum proportional to one already
computed is that one times a number (so an update that reads the new momentum, as
signum's does, reuses it). Names are temporaries (``t0, t1, ...``);
:mod:`programs.naming` gives readable ones and a natural order.
Constants keep :data:`~programs.algebra.DIGITS` significant digits (the algebra's float
noise is far below that; the caller checks the result with funcsim). Anything with no
counterpart in the language raises :class:`EmitError`.

Example:
    >>> import sympy
    >>> from programs.algebra import G, LR, Symbolic, slot_symbol
    >>> from programs.printer import to_source
    >>> m = slot_symbol(0)
    >>> update = sympy.sign(sympy.Float(0.1) * G + sympy.Float(0.9) * m) * LR
    >>> state = sympy.Float(0.01) * G + sympy.Float(0.99) * m
    >>> print(to_source(emit(Symbolic(("w", "g", "m", "lr"), update, (state,), (m,)))))
    def train(w, g, m, lr):
        t0 = interp(g, m, 0.99)
        t1 = interp(g, m, 0.9)
        t2 = sign(t1)
        t3 = t2 * lr
        return t3, t0
"""

from __future__ import annotations

import math

import sympy
from sympy.core.function import AppliedUndef

from .algebra import DIGITS, EPS_SYMBOL, G, LR, W, Symbolic, round_floats
from .program import Arg, Const, NamedConst, Program, Statement, Var

_UNARY = {
    sympy.sin: "sin", sympy.cos: "cos", sympy.tan: "tan", sympy.asin: "arcsin",
    sympy.acos: "arccos", sympy.atan: "arctan", sympy.sinh: "sinh", sympy.cosh: "cosh",
    sympy.tanh: "tanh", sympy.asinh: "arcsinh", sympy.acosh: "arccosh",
    sympy.atanh: "arctanh", sympy.exp: "exp", sympy.Abs: "abs", sympy.sign: "sign",
}
_UNDEFINED = {"norm": 1, "global_norm": 1, "dot": 2, "cosine_sim": 2}
_BINARY_N_ARY = {sympy.Max: "max", sympy.Min: "min"}


class EmitError(ValueError):
    """An expression has no counterpart in the program language."""


def number(value) -> float:
    """A sympy number as a program constant's value, rounded to DIGITS significant digits."""
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError) as err:
        raise EmitError(f"not a real number: {value}") from err
    if not math.isfinite(result):
        raise EmitError(f"constant {value} is not finite")
    return float(f"{result:.{DIGITS}g}") + 0.0


def emit(symbolic: Symbolic) -> Program:
    """The program computing ``symbolic``'s outputs (raises :class:`EmitError`)."""
    return _Emitter(symbolic).program()


class _Emitter:
    def __init__(self, symbolic: Symbolic):
        self.symbolic = symbolic
        params = symbolic.params
        self.inputs = {W: params[0], G: params[1], LR: params[-1]}
        self.inputs.update(zip(symbolic.slots, symbolic.slot_names))
        self.taken = set(params)
        self.statements: list[Statement] = []
        self.memo: dict = {}
        self.sums: dict = {}  # a sum scaled to lead with 1 -> (its variable, its lead)
        self.counter = 0

    def program(self) -> Program:
        # The new states first, so that an update reading them (signum) can reuse them.
        returns = {}
        outputs = self.symbolic.outputs()
        for position in [*range(1, len(outputs)), 0]:
            arg = self.arg(outputs[position])
            if not isinstance(arg, Var):
                raise EmitError(f"an output is the constant {outputs[position]}, "
                                f"not a tensor")
            returns[position] = arg.name
        return Program(self.symbolic.params, tuple(self.statements),
                       tuple(returns[k] for k in range(len(outputs))))

    # -- statements ------------------------------------------------------------------

    def new(self, op: str, *args: Arg) -> Var:
        while f"t{self.counter}" in self.taken:
            self.counter += 1
        name = f"t{self.counter}"
        self.taken.add(name)
        self.statements.append(Statement(name, op, tuple(args)))
        return Var(name)

    def arg(self, expr) -> Arg:
        if expr in self.memo:
            return self.memo[expr]
        result = self._arg(expr)
        self.memo[expr] = result
        return result

    def _arg(self, expr) -> Arg:
        if expr in self.inputs:
            return Var(self.inputs[expr])
        if expr is sympy.pi:
            return NamedConst("pi")
        if expr is sympy.E:
            return NamedConst("e")
        if expr == EPS_SYMBOL:
            return NamedConst("eps")
        if expr.is_Number or (expr.is_number and not expr.free_symbols):
            return Const(number(expr))
        if isinstance(expr, sympy.Add):
            return self.add(expr)
        if isinstance(expr, sympy.Mul):
            return self.mul(expr)
        if isinstance(expr, sympy.Pow):
            return self.power(expr)
        if isinstance(expr, sympy.log):
            return self.log(expr.args[0])
        if type(expr) in _BINARY_N_ARY:
            op = _BINARY_N_ARY[type(expr)]
            args = sorted(expr.args, key=sympy.default_sort_key)
            result = self.arg(args[0])
            for other in args[1:]:
                result = self.new(op, result, self.arg(other))
            return result
        if isinstance(expr, sympy.Abs):
            return self.new("abs", self.absolute(expr.args[0]))
        if type(expr) in _UNARY:
            return self.new(_UNARY[type(expr)], self.arg(expr.args[0]))
        if isinstance(expr, AppliedUndef) and _UNDEFINED.get(expr.func.__name__) == len(
                expr.args):
            return self.new(expr.func.__name__, *(self.arg(a) for a in expr.args))
        raise EmitError(f"no op computes {type(expr).__name__}")

    # -- sums ------------------------------------------------------------------------

    def add(self, expr: sympy.Add) -> Arg:
        known = self.proportional(expr)
        if known is not None:
            arg, ratio = known
            if ratio == 1:
                return arg
            if ratio == -1:
                return self.new("negative", arg)
            return self.new("mul", arg, Const(number(ratio)))
        result = self._add(expr)
        if isinstance(result, Var):
            key, lead = _normalised_sum(expr)
            self.sums.setdefault(key, (result, lead))
        return result

    def proportional(self, expr: sympy.Add):
        """``(variable, ratio)`` when ``expr`` is ``ratio`` times a sum already computed."""
        key, lead = _normalised_sum(expr)
        if key not in self.sums:
            return None
        arg, known_lead = self.sums[key]
        return arg, clean(lead / known_lead)

    def _add(self, expr: sympy.Add) -> Arg:
        constant = sympy.Integer(0)
        terms = []
        for term in expr.args:
            coefficient, rest = term.as_coeff_Mul()
            if rest == 1:
                constant += coefficient
            else:
                terms.append((coefficient, rest))
        if constant != 0:
            if len(terms) == 1 and constant == -1 and terms[0][0] == 1 and \
                    isinstance(terms[0][1], sympy.exp):
                return self.new("expm1", self.arg(terms[0][1].args[0]))
            core = self.arg(sympy.Add(*(c * rest for c, rest in terms)))  # shared, if seen
            op = "sub" if constant < 0 else "add"
            return self.new(op, core, Const(number(abs(constant))))
        # Positive terms first; a weight-decay-like term (of w and lr only) last.
        terms.sort(key=lambda t: (bool(t[0] < 0), t[1].free_symbols <= {W, LR},
                                  sympy.default_sort_key(t[1])))
        common = _common_factor([rest for _, rest in terms])
        if common != 1:
            # c0 * f * x + c1 * f * y  ->  (x + (c1 / c0) * y) * (c0 * f)
            lead = terms[0][0]
            inner = sympy.Add(*(clean(c / lead) * (rest / common) for c, rest in terms))
            return self.arg(sympy.Mul(inner, lead * common))
        if len(terms) == 2:
            result = self.interp_pair(terms)
            if result is not None:
                return result
        elif len(terms) > 2:
            pair = _pair_to_one(terms)
            if pair is not None:  # an interp among more terms: computed as its own sum
                i, j = pair
                result = self.arg(sympy.Add(terms[i][0] * terms[i][1],
                                            terms[j][0] * terms[j][1]))
                rest = [t for k, t in enumerate(terms) if k not in pair]
                return self.chain(result, rest)
        return self.chain(None, terms)

    def chain(self, result: Arg | None, terms: list) -> Arg:
        """``result`` plus each ``coefficient * rest`` of ``terms``, by add and sub."""
        for coefficient, rest in terms:
            if result is None:
                result = self.scaled(coefficient, rest)
            elif coefficient < 0:
                result = self.new("sub", result, self.scaled(-coefficient, rest))
            else:
                result = self.new("add", result, self.scaled(coefficient, rest))
        return result

    def interp_pair(self, terms: list) -> Arg | None:
        """``c1 * x + c2 * y`` as an interp (times ``c1 + c2`` unless that is 1), or None
        when a plain sum is as short (a coefficient is +-1)."""
        (ci, xi), (cj, xj) = terms
        total = float(ci + cj)
        exact = abs(total - 1.0) < 1e-12
        scaled = total != 0 and abs(abs(float(ci)) - 1) > 1e-12 and \
            abs(abs(float(cj)) - 1) > 1e-12
        if not (exact or scaled):
            return None
        if not self._first(xi, xj, ci, cj):
            (ci, xi), (cj, xj) = (cj, xj), (ci, xi)
        weight = Const(number(cj / (ci + cj)))
        result = self.new("interp", self.arg(xi), self.arg(xj), weight)
        if not exact:
            result = self.new("mul", result, Const(number(ci + cj)))
        return result

    @staticmethod
    def _first(xi, xj, ci, cj) -> bool:
        """Whether ``xi`` goes first in ``interp(xi, xj, a)``: the gradient does."""
        for candidate in (lambda x: x == G, lambda x: G in x.free_symbols):
            if candidate(xi) != candidate(xj):
                return candidate(xi)
        return abs(float(ci)) <= abs(float(cj))

    def scaled(self, coefficient, rest) -> Arg:
        coefficient = clean(coefficient)
        if coefficient == 1:
            return self.arg(rest)
        if coefficient == -1:
            return self.new("negative", self.arg(rest))
        return self.arg(coefficient * rest)

    # -- products --------------------------------------------------------------------

    def mul(self, expr: sympy.Mul) -> Arg:
        coefficient, rest = expr.as_coeff_Mul()
        factors, calls = _named_functions(list(sympy.Mul.make_args(rest)))
        numerator, denominator, scalar = [], [], []
        known = [self.new(op, self.arg(inner) if op == "cbrt" else self.nonnegative_inner(inner))
                 for op, inner in calls]
        for factor in factors:
            base, exponent = factor.as_base_exp()
            reuse = self.proportional(factor) if isinstance(factor, sympy.Add) else None
            if reuse is not None:
                known.append(reuse[0])
                coefficient *= reuse[1]
            elif exponent.is_Number and exponent < 0:
                denominator.append(base ** -exponent)
            elif factor.free_symbols <= {LR}:
                scalar.append(factor)
            else:
                numerator.append(factor)
        key = sympy.default_sort_key
        coefficient = clean(coefficient)
        args = known + [self.arg(f) for f in sorted(numerator, key=key)]
        scale = self.product([self.arg(f) for f in sorted(scalar, key=key)])
        if coefficient == -1 and not denominator:
            return self.new("negative", self.product(args + ([scale] if scale else [])))
        if coefficient != 1:
            constant = Const(number(coefficient))
            scale = constant if scale is None else self.new("mul", scale, constant)
        if scale is not None:
            args.append(scale)
        top = self.product(args)
        if not denominator:
            return top
        bottom = self.product([self.arg(f) for f in sorted(denominator, key=key)])
        if top is None:
            return self.new("reciprocal", bottom)
        return self.new("div", top, bottom)

    def product(self, args: list) -> Arg | None:
        if not args:
            return None
        result = args[0]
        for other in args[1:]:
            result = self.new("mul", result, other)
        return result

    # -- powers and logs -------------------------------------------------------------

    def power(self, expr: sympy.Pow) -> Arg:
        base, exponent = expr.args
        if exponent.is_Integer:
            n = int(exponent)
            if n < 0:
                return self.new("reciprocal", self.arg(base ** -n))
            return self.whole_power(self.arg(base), n)
        if exponent.is_Number:
            inner = self.nonnegative_inner(base)
            if exponent == sympy.Rational(1, 2):
                return self.new("sqrt", inner)
            if exponent == sympy.Rational(-1, 2):
                return self.new("reciprocal", self.new("sqrt", inner))
            return self.new("power", inner, Const(number(exponent)))
        if base == 2:
            return self.new("exp2", self.arg(exponent))
        if base == 10:
            return self.new("exp10", self.arg(exponent))
        return self.new("power", self.nonnegative_inner(base), self.arg(exponent))

    def whole_power(self, base: Arg, n: int) -> Arg:
        if n == 1:
            return base
        if n == 2:
            return self.new("square", base)
        if n == 3:
            return self.new("cube", base)
        half = self.whole_power(base, n // 2)
        result = self.new("square", half)
        return self.new("mul", result, base) if n % 2 else result

    def nonnegative_inner(self, base) -> Arg:
        """``x`` such that ``|x| == base``: the ops ``sqrt``, ``power``, ``log`` take ``|x|``."""
        if isinstance(base, sympy.Abs):
            return self.absolute(base.args[0])
        if base.is_nonnegative:
            return self.arg(base)
        raise EmitError(f"the base {base} of a fractional power may be negative")

    def absolute(self, inner) -> Arg:
        """Something whose absolute value is ``|inner|``: ``-x`` may be ``x``."""
        coefficient, rest = inner.as_coeff_Mul()
        if coefficient == -1:
            inner = rest
        elif isinstance(inner, sympy.Add):
            known = self.proportional(inner)
            if known is not None and known[1] == -1:
                return known[0]
        return self.arg(inner)

    def log(self, arg) -> Arg:
        if isinstance(arg, sympy.Add) and len(arg.args) == 2 and sympy.Integer(1) in arg.args:
            other = arg.args[0] if arg.args[1] == 1 else arg.args[1]
            if isinstance(other, sympy.Abs):
                return self.new("log1p", self.absolute(other.args[0]))
        return self.new("log", self.nonnegative_inner(arg))


def clean(value):
    """A sympy number, exact when it is a whole number up to float noise."""
    value = sympy.sympify(value)
    if value.is_Float and math.isfinite(float(value)):
        rounded = round(float(value))
        if abs(float(value) - rounded) <= 1e-12 * max(1.0, abs(rounded)):
            return sympy.Integer(rounded)
    return value


def _normalised_sum(expr: sympy.Add):
    """``(expr / lead, lead)``: lead is the coefficient of the first term in a fixed order
    (so proportional sums get the same key); floats rounded so noise does not matter."""
    terms = sorted((t.as_coeff_Mul() for t in expr.args),
                   key=lambda t: sympy.default_sort_key(t[1]))
    lead = terms[0][0]
    key = sympy.Add(*(round_floats(clean(c / lead)) * rest for c, rest in terms))
    return key, lead


_LOG_BASES = {sympy.Integer(10): "log10", sympy.Integer(2): "log2"}


def _named_functions(factors: list) -> tuple[list, list]:
    """``(other factors, [(op, argument)])``: ``sign(x) * |x| ** (1/3)`` is ``cbrt(x)``
    and ``log(y) / log(10)`` is ``log10`` of ``y`` (``log2`` likewise), sympy's spelling
    of those ops put back."""
    rest, calls = list(factors), []
    for factor in factors:
        if isinstance(factor, sympy.sign) and factor in rest:
            root = sympy.Abs(factor.args[0]) ** sympy.Rational(1, 3)
            if root in rest:
                rest.remove(factor)
                rest.remove(root)
                calls.append(("cbrt", factor.args[0]))
        base, exponent = factor.as_base_exp()
        if exponent == -1 and isinstance(base, sympy.log) and base.args[0] in _LOG_BASES \
                and factor in rest:
            logs = [f for f in rest if isinstance(f, sympy.log) and f != base]
            if logs:
                rest.remove(factor)
                rest.remove(logs[0])
                calls.append((_LOG_BASES[base.args[0]], logs[0].args[0]))
    return rest, calls


def _pair_to_one(terms: list):
    """Positions of two terms whose coefficients sum to 1 (an interp), or None."""
    for i in range(len(terms)):
        for j in range(i + 1, len(terms)):
            if abs(float(terms[i][0] + terms[j][0]) - 1.0) < 1e-12:
                return i, j
    return None


def _common_factor(terms: list):
    """The product of the factors every term shares (with the smaller power), or 1."""
    powers = []
    for term in terms:
        factors: dict = {}
        for factor in sympy.Mul.make_args(term):
            base, exponent = factor.as_base_exp()
            if exponent.is_Number:
                factors[base] = factors.get(base, 0) + exponent
        powers.append(factors)
    common = sympy.Integer(1)
    for base in set(powers[0]).intersection(*powers[1:]):
        exponents = [p[base] for p in powers]
        if all(e > 0 for e in exponents):
            common *= base ** min(exponents)
        elif all(e < 0 for e in exponents):
            common *= base ** max(exponents)
    return common
