"""The op registry: every function a program may call, declared once.

Each :class:`Op` carries its arity, the kinds its arguments accept, the kind of its
result, and its meanings:

* an **array meaning** ``array_fn(xp, ctx, *args)`` written once against an array
  namespace ``xp``; ``xp=numpy`` gives the numpy meaning, ``xp=jax.numpy`` the jax
  meaning (:meth:`Op.numpy`, :meth:`Op.jax`). ``ctx`` is the execution context that knows
  where one parameter tensor ends: ``ctx.param_sum(x)`` sums each parameter tensor,
  ``ctx.global_sum(x)`` sums all of them (both broadcastable back to ``x``), and
  ``ctx.eps`` is the safe-division epsilon (``EPS``; funcsim uses a tinier one so that
  behaviour equal up to that epsilon fingerprints equal). ``ctx=None`` is fine for the
  element-wise ops.
* a **sympy meaning** ``sympy_fn(*args)`` over real symbols, for algebra.

Safe numerics (the released search space's conventions, so that a program computes
finite numbers wherever that is reasonable; anything else is a bad program, not a crash):

* ``log``, ``log2``, ``log10`` act on ``max(|x|, 1e-30)``; ``log1p`` and ``sqrt`` on ``|x|``;
  ``power(x, y)`` is ``|x| ** y``.
* Division and ``reciprocal`` add ``EPS = 1e-8`` to the denominator, with the
  denominator's sign (``y + eps`` for ``y >= 0``, ``y - eps`` otherwise), so ``x / 0``
  is ``x / 1e-8``, never inf or nan. ``cosine_sim`` divides the same way.
* ``arcsin``/``arccos`` clip their argument into [-1, 1], ``arctanh`` into
  [-1 + 1e-6, 1 - 1e-6], ``arccosh`` raises it to at least 1.
* ``clip(x, c)`` clips ``x`` into ``[-|c|, |c|]``.
* ``exp`` and friends may overflow to inf; such a program is scored as bad.

The sympy meanings leave out the epsilons and the clipping of ``arc*`` (an algebra step
that relies on that says so); they keep the ``|x|`` of ``sqrt``, ``log`` and ``power``.

Kinds: ``"tensor"`` (shaped like one parameter) and ``"scalar"``. Element-wise ops
broadcast a scalar over a tensor; reductions (``norm``, ``dot``, ``cosine_sim``,
``global_norm``) take tensors and give scalars.

Example:
    >>> import numpy as np
    >>> OPS["interp"].numpy(None, np.float32(1.0), np.float32(3.0), 0.25)
    np.float32(1.5)
    >>> OPS["div"].numpy(None, np.float32(1.0), np.float32(0.0))
    np.float32(1e+08)
    >>> sorted(INFIX)
    ['*', '+', '-', '/']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import sympy

TENSOR = "tensor"
SCALAR = "scalar"
ANY = "any"

EPS = 1e-8
LOG_FLOOR = 1e-30
ARCTANH_LIMIT = 1.0 - 1e-6

# How an op's result kind follows from its arguments.
ELEMENTWISE = "elementwise"  # tensor if any argument is a tensor, else scalar


@dataclass(frozen=True)
class Op:
    """One function of the program language.

    Attributes:
        name: the name programs call it by (``interp``), or its canonical name for an
            infix operator (``add`` for ``+``).
        arity: number of arguments.
        arg_kinds: per argument, ``"any"`` or ``"tensor"``.
        result: ``"elementwise"`` or ``"scalar"``.
        array_fn: ``array_fn(xp, ctx, *args)``, the numpy/jax meaning.
        sympy_fn: ``sympy_fn(*args)``, the algebraic meaning.
        symbol: the infix symbol (``+``) for binary operators, else None.
        commutative: whether argument order never matters.
        doc: one line on what it computes.
    """

    name: str
    arity: int
    arg_kinds: tuple[str, ...]
    result: str
    array_fn: Callable[..., Any]
    sympy_fn: Callable[..., Any]
    symbol: str | None = None
    commutative: bool = False
    doc: str = ""

    def result_kind(self, arg_kinds: tuple[str, ...]) -> str:
        """The kind of the result given the kinds of the arguments."""
        if self.result == SCALAR:
            return SCALAR
        return TENSOR if TENSOR in arg_kinds else SCALAR

    def numpy(self, ctx, *args):
        """Evaluate with numpy."""
        import numpy as np

        return self.array_fn(np, ctx, *args)

    def jax(self, ctx, *args):
        """Evaluate with jax.numpy (imported on first use; programs/ needs no jax)."""
        import jax.numpy as jnp

        return self.array_fn(jnp, ctx, *args)


def safe_denominator(xp, ctx, y):
    """``y`` pushed away from zero by the context's epsilon, keeping its sign
    (``+0.0`` goes up)."""
    return y + xp.copysign(EPS if ctx is None else ctx.eps, y)


def _safe_div(xp, ctx, x, y):
    return x / safe_denominator(xp, ctx, y)


def _norm(xp, ctx, x):
    return xp.sqrt(ctx.param_sum(x * x))


def _cosine_sim(xp, ctx, x, y):
    return _safe_div(xp, ctx, ctx.param_sum(x * y), _norm(xp, ctx, x) * _norm(xp, ctx, y))


def _sym_cbrt(x):
    return sympy.sign(x) * sympy.Abs(x) ** sympy.Rational(1, 3)


_REGISTRY: dict[str, Op] = {}


def _unary(name, array_fn, sympy_fn, doc):
    _register(Op(name, 1, (ANY,), ELEMENTWISE, lambda xp, ctx, x: array_fn(xp, x),
                 sympy_fn, doc=doc))


def _register(op: Op) -> None:
    assert op.name not in _REGISTRY, op.name
    assert len(op.arg_kinds) == op.arity, op.name
    _REGISTRY[op.name] = op


# Unary element-wise functions.
_unary("abs", lambda xp, x: xp.abs(x), sympy.Abs, "|x|")
_unary("cos", lambda xp, x: xp.cos(x), sympy.cos, "cosine")
_unary("sin", lambda xp, x: xp.sin(x), sympy.sin, "sine")
_unary("tan", lambda xp, x: xp.tan(x), sympy.tan, "tangent")
_unary("arcsin", lambda xp, x: xp.arcsin(xp.clip(x, -1.0, 1.0)), sympy.asin,
       "arcsine of x clipped into [-1, 1]")
_unary("arccos", lambda xp, x: xp.arccos(xp.clip(x, -1.0, 1.0)), sympy.acos,
       "arccosine of x clipped into [-1, 1]")
_unary("arctan", lambda xp, x: xp.arctan(x), sympy.atan, "arctangent")
_unary("sinh", lambda xp, x: xp.sinh(x), sympy.sinh, "hyperbolic sine")
_unary("cosh", lambda xp, x: xp.cosh(x), sympy.cosh, "hyperbolic cosine")
_unary("tanh", lambda xp, x: xp.tanh(x), sympy.tanh, "hyperbolic tangent")
_unary("arcsinh", lambda xp, x: xp.arcsinh(x), sympy.asinh, "inverse hyperbolic sine")
_unary("arccosh", lambda xp, x: xp.arccosh(xp.maximum(x, 1.0)), sympy.acosh,
       "inverse hyperbolic cosine of max(x, 1)")
_unary("arctanh", lambda xp, x: xp.arctanh(xp.clip(x, -ARCTANH_LIMIT, ARCTANH_LIMIT)),
       sympy.atanh, "inverse hyperbolic tangent of x clipped into (-1, 1)")
_unary("exp", lambda xp, x: xp.exp(x), sympy.exp, "e ** x")
_unary("exp2", lambda xp, x: xp.exp2(x), lambda x: 2 ** x, "2 ** x")
_unary("exp10", lambda xp, x: xp.power(10.0, x), lambda x: 10 ** x, "10 ** x")
_unary("expm1", lambda xp, x: xp.expm1(x), lambda x: sympy.exp(x) - 1, "e ** x - 1")
_unary("log", lambda xp, x: xp.log(xp.maximum(xp.abs(x), LOG_FLOOR)),
       lambda x: sympy.log(sympy.Abs(x)), "natural log of |x| (floored at 1e-30)")
_unary("log10", lambda xp, x: xp.log10(xp.maximum(xp.abs(x), LOG_FLOOR)),
       lambda x: sympy.log(sympy.Abs(x), 10), "log base 10 of |x| (floored at 1e-30)")
_unary("log2", lambda xp, x: xp.log2(xp.maximum(xp.abs(x), LOG_FLOOR)),
       lambda x: sympy.log(sympy.Abs(x), 2), "log base 2 of |x| (floored at 1e-30)")
_unary("log1p", lambda xp, x: xp.log1p(xp.abs(x)),
       lambda x: sympy.log(1 + sympy.Abs(x)), "log(1 + |x|)")
_unary("square", lambda xp, x: x * x, lambda x: x ** 2, "x * x")
_unary("sqrt", lambda xp, x: xp.sqrt(xp.abs(x)), lambda x: sympy.sqrt(sympy.Abs(x)),
       "square root of |x|")
_unary("cube", lambda xp, x: x * x * x, lambda x: x ** 3, "x ** 3")
_unary("cbrt", lambda xp, x: xp.cbrt(x), _sym_cbrt, "real cube root")
_unary("sign", lambda xp, x: xp.sign(x), sympy.sign, "-1, 0 or 1")
_register(Op("reciprocal", 1, (ANY,), ELEMENTWISE,
             lambda xp, ctx, x: 1.0 / safe_denominator(xp, ctx, x), lambda x: 1 / x,
             doc="1 / x (safe division)"))
_unary("negative", lambda xp, x: -x, lambda x: -x, "-x")

# Reductions of one parameter tensor, and of all of them.
_register(Op("norm", 1, (TENSOR,), SCALAR, _norm,
             sympy.Function("norm"), doc="L2 norm of one parameter tensor"))
_register(Op("global_norm", 1, (TENSOR,), SCALAR,
             lambda xp, ctx, x: xp.sqrt(ctx.global_sum(x * x)),
             sympy.Function("global_norm"), doc="L2 norm over all parameter tensors"))
_register(Op("dot", 2, (TENSOR, TENSOR), SCALAR,
             lambda xp, ctx, x, y: ctx.param_sum(x * y),
             sympy.Function("dot"), commutative=True,
             doc="inner product within one parameter tensor"))
_register(Op("cosine_sim", 2, (TENSOR, TENSOR), SCALAR, _cosine_sim,
             sympy.Function("cosine_sim"), commutative=True,
             doc="dot(x, y) / (norm(x) * norm(y)) (safe division)"))

# Binary element-wise functions; the four arithmetic ones are written infix.
_register(Op("add", 2, (ANY, ANY), ELEMENTWISE, lambda xp, ctx, x, y: x + y,
             lambda x, y: x + y, symbol="+", commutative=True, doc="x + y"))
_register(Op("sub", 2, (ANY, ANY), ELEMENTWISE, lambda xp, ctx, x, y: x - y,
             lambda x, y: x - y, symbol="-", doc="x - y"))
_register(Op("mul", 2, (ANY, ANY), ELEMENTWISE, lambda xp, ctx, x, y: x * y,
             lambda x, y: x * y, symbol="*", commutative=True, doc="x * y"))
_register(Op("div", 2, (ANY, ANY), ELEMENTWISE, _safe_div,
             lambda x, y: x / y, symbol="/", doc="x / y (safe division)"))
_register(Op("max", 2, (ANY, ANY), ELEMENTWISE, lambda xp, ctx, x, y: xp.maximum(x, y),
             sympy.Max, commutative=True, doc="element-wise maximum"))
_register(Op("min", 2, (ANY, ANY), ELEMENTWISE, lambda xp, ctx, x, y: xp.minimum(x, y),
             sympy.Min, commutative=True, doc="element-wise minimum"))
_register(Op("power", 2, (ANY, ANY), ELEMENTWISE,
             lambda xp, ctx, x, y: xp.power(xp.abs(x), y),
             lambda x, y: sympy.Abs(x) ** y, doc="|x| ** y"))
_register(Op("clip", 2, (ANY, ANY), ELEMENTWISE,
             lambda xp, ctx, x, c: xp.clip(x, -xp.abs(c), xp.abs(c)),
             lambda x, c: sympy.Max(-sympy.Abs(c), sympy.Min(x, sympy.Abs(c))),
             doc="x clipped into [-|c|, |c|]"))

# Ternary.
_register(Op("interp", 3, (ANY, ANY, ANY), ELEMENTWISE,
             lambda xp, ctx, x, y, a: (1.0 - a) * x + a * y,
             lambda x, y, a: (1 - a) * x + a * y, doc="(1 - a) * x + a * y"))

OPS: dict[str, Op] = dict(_REGISTRY)
"""Every op by name."""

INFIX: dict[str, str] = {op.symbol: op.name for op in OPS.values() if op.symbol}
"""Infix symbol -> op name (``{"+": "add", ...}``)."""

CONSTANTS: dict[str, tuple[float, Any]] = {
    "pi": (math.pi, sympy.pi),
    "e": (math.e, sympy.E),
    "eps": (EPS, sympy.Symbol("eps", positive=True)),
}
"""Named constants a program may use as an argument: name -> (value, sympy meaning)."""

REDUCTIONS = frozenset(name for name, op in OPS.items() if op.result == SCALAR)
