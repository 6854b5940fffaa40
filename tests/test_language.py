"""The op registry, parser, printer and abstract execution."""

import math
import textwrap

import numpy as np
import pytest
import sympy

from programs.errors import ProgramError
from programs.kinds import infer_kinds, is_valid
from programs.ops import CONSTANTS, INFIX, OPS, SCALAR, TENSOR
from programs.parser import parse
from programs.printer import to_source
from programs.program import Const, NamedConst, Program, Statement, Var
from programs.seed_programs import SEED_NAMES, load_seed
from tests.conftest import program

DESIGN_FUNCTIONS = """abs cos sin tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh
exp exp2 exp10 expm1 log log10 log2 log1p square sqrt cube cbrt sign reciprocal norm negative
max min power dot cosine_sim interp clip global_norm""".split()


def test_registry_has_the_design_function_set():
    for name in DESIGN_FUNCTIONS:
        assert name in OPS, name
    assert set(INFIX) == {"+", "-", "*", "/"}
    assert set(CONSTANTS) == {"pi", "e", "eps"}
    assert len(OPS) + len(CONSTANTS) >= 44


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_consistent_numpy_and_sympy_meanings(name):
    op = OPS[name]
    assert len(op.arg_kinds) == op.arity
    rng = np.random.default_rng(0)
    low, high = (1.2, 2.0) if name == "arccosh" else (0.2, 0.8)  # inside each domain
    args = [np.float64(v) for v in rng.uniform(low, high, size=op.arity)]

    class One:  # one parameter tensor of a single element: sums are identities
        eps = 1e-8

        @staticmethod
        def param_sum(x):
            return x

        global_sum = param_sum

    value = float(op.numpy(One, *args))
    symbols = sympy.symbols(f"a0:{op.arity}", real=True)
    expr = op.sympy_fn(*symbols)
    if isinstance(expr, sympy.core.function.AppliedUndef):
        return  # reductions are opaque functions to sympy
    exact = float(expr.subs(dict(zip(symbols, args))).subs(sympy.Symbol("eps", positive=True), 0))
    assert math.isclose(value, exact, rel_tol=1e-6, abs_tol=1e-7), (name, value, exact)


def test_safe_numerics_give_finite_numbers_where_documented():
    x = np.array([-2.0, 0.0, 3.0], np.float32)
    for name in ("log", "log2", "log10", "log1p", "sqrt", "arcsin", "arccos", "arctanh",
                 "arccosh", "reciprocal"):
        assert np.all(np.isfinite(OPS[name].numpy(None, x))), name
    assert np.all(np.isfinite(OPS["div"].numpy(None, x, np.zeros(3, np.float32))))
    assert OPS["div"].numpy(None, np.float32(1), np.float32(-0.5)) == pytest.approx(-2.0)
    assert OPS["sqrt"].numpy(None, np.float32(-4.0)) == 2.0
    assert OPS["clip"].numpy(None, np.float32(5.0), np.float32(-2.0)) == 2.0
    assert OPS["div"].numpy(None, x, np.ones(3, np.float32)).dtype == np.float32


def test_parse_builds_the_expected_ast():
    p = program("""
        def train(w, g, m, lr):
            m = interp(g, m, 0.9)
            u = m * -2
            u -= pi
            return u, m
    """)
    assert p.params == ("w", "g", "m", "lr")
    assert p.statements == (
        Statement("m", "interp", (Var("g"), Var("m"), Const(0.9))),
        Statement("u", "mul", (Var("m"), Const(-2.0))),
        Statement("u", "sub", (Var("u"), NamedConst("pi"))),
    )
    assert p.returns == ("u", "m")
    assert [s.line for s in p.statements] == [2, 3, 4]


def test_state_slot_count_follows_the_signature():
    p = program("""
        def train(w, g, a, b, c, lr):
            return g, a, b, c
    """)
    assert p.state_slots == ("a", "b", "c")
    assert program("def train(w, g, lr):\n    u = sign(g)\n    return u").num_state_slots == 0


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_programs_are_valid_and_round_trip(name):
    p = load_seed(name)
    assert is_valid(p)
    assert parse(to_source(p)) == p
    assert to_source(parse(to_source(p))) == to_source(p)


def test_adamw_seed_is_the_design_program():
    expected = textwrap.dedent("""\
        def train(w, g, m, v, lr):
            g2 = square(g)
            m = interp(g, m, 0.9)
            v = interp(g2, v, 0.999)
            sqrt_v = sqrt(v)
            update = m / sqrt_v
            wd = w * 0.01
            update = update + wd
            lr = lr * 0.001
            update = update * lr
            return update, m, v""")
    assert to_source(load_seed("adamw")) == expected


def test_printer_writes_infix_and_shortest_constants():
    p = program("""
        def train(w, g, lr):
            a = add(g, 1)
            b = mul(a, 1e-08)
            return b
    """)
    assert to_source(p).splitlines()[1:3] == ["    a = g + 1.0", "    b = a * 1e-08"]


def test_kinds_are_inferred():
    p = program("""
        def train(w, g, m, lr):
            n = norm(g)
            s = n * lr
            t = g * s
            d = dot(g, m)
            return t, m
    """)
    assert infer_kinds(p) == (SCALAR, SCALAR, TENSOR, SCALAR)


def test_kind_errors_from_programs_built_in_code():
    p = Program(("w", "g", "lr"), (Statement("x", "norm", (Var("lr"),)),), ("g",))
    with pytest.raises(ProgramError, match="'norm' needs a tensor"):
        infer_kinds(p)
    p = Program(("w", "g", "lr"), (Statement("x", "sign", (Var("y"),)),), ("x",))
    with pytest.raises(ProgramError, match="'y' is used before it is assigned"):
        infer_kinds(p)
    p = Program(("w", "g", "lr"), (Statement("x", "nope", (Var("g"),)),), ("x",))
    with pytest.raises(ProgramError, match="unknown op 'nope'"):
        infer_kinds(p)


def test_constants_must_be_finite():
    with pytest.raises(ValueError):
        Const(math.inf)
    assert Const(-0.0) == Const(0.0) and repr(Const(-0.0).value) == "0.0"


def test_docs_list_every_op_and_constant():
    from pathlib import Path

    text = Path(__file__).parent.parent.joinpath("docs", "programs.md").read_text()
    for name, op in OPS.items():
        assert f"`{name}`" in text or f"`{op.symbol}`" in text, name
    for name in CONSTANTS:
        assert f"`{name}`" in text, name
    assert f"{len(OPS)} ops and {len(CONSTANTS)} named constants" in text
