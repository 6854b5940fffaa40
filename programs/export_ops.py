"""The source text of every op, for generated modules (numpy or jax.numpy).

Each op of :data:`programs.ops.OPS` has a template here: its parameter list and one
expression over an array namespace ``{xp}`` (``np`` or ``jnp``), with the registry's safe
numerics (``_safe`` pushes a denominator away from zero by ``EPS`` keeping its sign; logs
floor at ``LOG_FLOOR``; ``arcsin``/``arccos``/``arctanh``/``arccosh`` clip). A test
evaluates every template against the registry's numpy meaning, so the two cannot drift.

``global_norm`` is special: it reduces *all* parameter tensors, so its helper takes the
list of tensors (:data:`GLOBAL_OPS`); every other op acts on one tensor at a time.

Example:
    >>> print(helper_source(["interp", "div"], "jnp"))
    def _safe(y):
        return y + jnp.copysign(EPS, y)
    <BLANKLINE>
    <BLANKLINE>
    def _op_div(x, y):
        return x / _safe(y)
    <BLANKLINE>
    <BLANKLINE>
    def _op_interp(x, y, a):
        return (1.0 - a) * x + a * y
"""

from __future__ import annotations

from .ops import ARCTANH_LIMIT, EPS, LOG_FLOOR

TEMPLATES: dict[str, tuple[str, str]] = {
    "abs": ("x", "{xp}.abs(x)"),
    "cos": ("x", "{xp}.cos(x)"),
    "sin": ("x", "{xp}.sin(x)"),
    "tan": ("x", "{xp}.tan(x)"),
    "arcsin": ("x", "{xp}.arcsin({xp}.clip(x, -1.0, 1.0))"),
    "arccos": ("x", "{xp}.arccos({xp}.clip(x, -1.0, 1.0))"),
    "arctan": ("x", "{xp}.arctan(x)"),
    "sinh": ("x", "{xp}.sinh(x)"),
    "cosh": ("x", "{xp}.cosh(x)"),
    "tanh": ("x", "{xp}.tanh(x)"),
    "arcsinh": ("x", "{xp}.arcsinh(x)"),
    "arccosh": ("x", "{xp}.arccosh({xp}.maximum(x, 1.0))"),
    "arctanh": ("x", "{xp}.arctanh({xp}.clip(x, -ARCTANH_LIMIT, ARCTANH_LIMIT))"),
    "exp": ("x", "{xp}.exp(x)"),
    "exp2": ("x", "{xp}.exp2(x)"),
    "exp10": ("x", "{xp}.power(10.0, x)"),
    "expm1": ("x", "{xp}.expm1(x)"),
    "log": ("x", "{xp}.log({xp}.maximum({xp}.abs(x), LOG_FLOOR))"),
    "log10": ("x", "{xp}.log10({xp}.maximum({xp}.abs(x), LOG_FLOOR))"),
    "log2": ("x", "{xp}.log2({xp}.maximum({xp}.abs(x), LOG_FLOOR))"),
    "log1p": ("x", "{xp}.log1p({xp}.abs(x))"),
    "square": ("x", "x * x"),
    "sqrt": ("x", "{xp}.sqrt({xp}.abs(x))"),
    "cube": ("x", "x * x * x"),
    "cbrt": ("x", "{xp}.cbrt(x)"),
    "sign": ("x", "{xp}.sign(x)"),
    "reciprocal": ("x", "1.0 / _safe(x)"),
    "negative": ("x", "-x"),
    "norm": ("x", "{xp}.sqrt({xp}.sum(x * x))"),
    "global_norm": ("tensors", "{xp}.sqrt(sum({xp}.sum(x * x) for x in tensors))"),
    "dot": ("x, y", "{xp}.sum(x * y)"),
    "cosine_sim": ("x, y", "{xp}.sum(x * y) / _safe({xp}.sqrt({xp}.sum(x * x)) "
                           "* {xp}.sqrt({xp}.sum(y * y)))"),
    "add": ("x, y", "x + y"),
    "sub": ("x, y", "x - y"),
    "mul": ("x, y", "x * y"),
    "div": ("x, y", "x / _safe(y)"),
    "max": ("x, y", "{xp}.maximum(x, y)"),
    "min": ("x, y", "{xp}.minimum(x, y)"),
    "power": ("x, y", "{xp}.power({xp}.abs(x), y)"),
    "clip": ("x, c", "{xp}.clip(x, -{xp}.abs(c), {xp}.abs(c))"),
    "interp": ("x, y, a", "(1.0 - a) * x + a * y"),
}

GLOBAL_OPS = frozenset({"global_norm"})
"""Ops whose helper takes the list of all parameter tensors and returns one scalar."""

_SAFE = "def _safe(y):\n    return y + {xp}.copysign(EPS, y)"

MODULE_CONSTANTS = {"EPS": EPS, "LOG_FLOOR": LOG_FLOOR, "ARCTANH_LIMIT": ARCTANH_LIMIT}
"""Module-level constants the templates may name, with their values."""


def helper_name(op: str) -> str:
    """The generated function computing ``op`` (``_op_interp``)."""
    return f"_op_{op}"


def helper_source(ops, xp: str) -> str:
    """Source of the helpers for ``ops`` (sorted; ``_safe`` first when needed)."""
    blocks = []
    bodies = {op: TEMPLATES[op][1].format(xp=xp) for op in sorted(set(ops))}
    if any("_safe(" in body for body in bodies.values()):
        blocks.append(_SAFE.format(xp=xp))
    for op, body in bodies.items():
        blocks.append(f"def {helper_name(op)}({TEMPLATES[op][0]}):\n    return {body}")
    return "\n\n\n".join(blocks)


def constants_used(ops) -> dict[str, float]:
    """The module constants (``EPS``, ...) that the helpers of ``ops`` name."""
    text = helper_source(ops, "xp")
    return {name: value for name, value in MODULE_CONSTANTS.items() if name in text}
