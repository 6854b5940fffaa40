"""Nested expressions in program files are flattened into one-op statements."""

import ast
import re
import textwrap

import numpy as np
import pytest

from programs.errors import ProgramError
from programs.executor import Executor
from programs.flatten import names_in
from programs.funcsim import fingerprint, similarity
from programs.hashing import structural_hash
from programs.kinds import check
from programs.ops import OPS
from programs.parser import parse
from programs.printer import to_source
from programs.program import Const, Statement, Var
from programs.seed_programs import load_seed

NESTED_LION = """\
def train(w, g, m, v, lr):
    update = (sign(interp(g, m, 0.9)) + w * 0.1) * (lr * 0.0001)
    m = interp(g, m, 0.99)
    return update, m, v
"""


def source(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


def run_steps(program, steps=6, size=8, seed=0):
    """Updates and states of ``program`` over a fixed random stream (float32)."""
    rng = np.random.default_rng(seed)
    executor = Executor(program)
    w = rng.normal(size=size).astype(np.float32)
    state = executor.init_state(w)
    out = []
    for step in range(steps):
        g = rng.normal(size=size).astype(np.float32)
        update, state = executor.step(w, g, state, 1.0 - step / steps)
        out.append((update, *state))
        w = (w - update).astype(np.float32)
    return out


def assert_same_run(a, b):
    for values_a, values_b in zip(run_steps(a), run_steps(b), strict=True):
        for x, y in zip(values_a, values_b, strict=True):
            assert np.array_equal(x, y)


def test_nested_lion_is_the_lion_seed():
    nested, lion = parse(NESTED_LION), load_seed("lion")
    assert len(nested) == len(lion) == 7
    assert fingerprint(nested) == fingerprint(lion) and similarity(nested, lion) == 1.0
    assert structural_hash(nested) == structural_hash(lion)
    assert_same_run(nested, lion)


def test_nested_lion_with_augmented_assignments():
    nested = parse(source("""
        def train(w, g, m, v, lr):
            update = sign(interp(g, m, 0.9))
            update += w * 0.1
            update *= lr * 0.0001
            m = interp(g, m, 0.99)
            return update, m, v
    """))
    assert nested.statements[3] == Statement("update", "add", (Var("update"), Var("t2")))
    assert fingerprint(nested) == fingerprint(load_seed("lion"))
    assert_same_run(nested, load_seed("lion"))


def test_flat_statements_follow_python_evaluation_order():
    p = parse(source("""
        def train(w, g, m, lr):
            u = sign(interp(g, m, 0.9)) + w * 0.3
            return u, m
    """))
    assert p.statements == (
        Statement("t1", "interp", (Var("g"), Var("m"), Const(0.9))),
        Statement("t2", "sign", (Var("t1"),)),
        Statement("t3", "mul", (Var("w"), Const(0.3))),
        Statement("u", "add", (Var("t2"), Var("t3"))),
    )
    # Each temporary is located at its sub-expression; the last statement at its line.
    assert [(s.line, s.col) for s in p.statements] == [(2, 14), (2, 9), (2, 35), (2, 5)]


USER_NAMES = source("""
    def train(w, g, t1, v, lr):
        t2 = sign(abs(g)) * 2
        u = t2 + abs(t1 * t2)
        t3 = sign(u)
        t5 = t3 - sign(t3)
        return t5, t1, v
""")

HAND_FLAT = source("""
    def train(w, g, t1, v, lr):
        a = abs(g)
        b = sign(a)
        t2 = b * 2
        c = t1 * t2
        d = abs(c)
        u = t2 + d
        t3 = sign(u)
        f = sign(t3)
        t5 = t3 - f
        return t5, t1, v
""")


def test_fresh_names_never_collide_with_names_the_user_wrote():
    p = parse(USER_NAMES)
    assert to_source(p) + "\n" == source("""
        def train(w, g, t1, v, lr):
            t4 = abs(g)
            t6 = sign(t4)
            t2 = t6 * 2.0
            t7 = t1 * t2
            t8 = abs(t7)
            u = t2 + t8
            t3 = sign(u)
            t9 = sign(t3)
            t5 = t3 - t9
            return t5, t1, v
    """)  # t1, t2, t3 and t5 are the user's (t3 and t5 only assigned later)
    temps = {"t4", "t6", "t7", "t8", "t9"}
    assert not temps & names_in(ast.parse(USER_NAMES))
    assert_same_run(p, parse(HAND_FLAT))


def test_fresh_names_skip_op_names_and_are_deterministic():
    text = source("""
        def train(w, g, m, lr):
            u = sign(abs(g)) * sign(m)
            return u, m
    """)
    first, second = parse(text), parse(text)
    assert to_source(first) == to_source(second)
    assert not {s.target for s in first.statements} & set(OPS)


NESTED_ERRORS = [
    ("unknown op", """
        def train(w, g, m, v, lr):
            u = sign(
                interp(g,
                       max(m, softmax(w)), 0.9))
            return u, m, v
     """, "softmax", "unknown op 'softmax'"),
    ("arity", """
        def train(w, g, m, v, lr):
            u = g * (lr +
                     sign(interp(g, m, clip(w))))
            return u, m, v
     """, "clip", "'clip' takes 2 argument(s), got 1"),
    ("use before assignment", """
        def train(w, g, m, v, lr):
            u = sign(g + interp(m, m, 0.9) * later)
            later = sign(g)
            return u, m, v
     """, "later)", "'later' is used before it is assigned"),
    ("keyword", """
        def train(w, g, m, v, lr):
            u = sign(g + interp(m, m, a=0.9))
            return u, m, v
     """, "a=", "keyword arguments are not allowed"),
    ("operator", """
        def train(w, g, m, v, lr):
            u = sign(g + m % 2)
            return u, m, v
     """, "m %", "operator '%' is not allowed"),
    ("kind of a temporary", """
        def train(w, g, m, v, lr):
            u = g * norm(lr * 2.0)
            return u, m, v
     """, "norm", "'norm' needs a tensor as argument 1"),
]


@pytest.mark.parametrize("text, needle, reason", [c[1:] for c in NESTED_ERRORS],
                         ids=[c[0] for c in NESTED_ERRORS])
def test_errors_deep_inside_name_line_and_column_of_the_sub_expression(text, needle, reason):
    text = source(text)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if needle in s)
    col = text.splitlines()[line - 1].index(needle) + 1
    with pytest.raises(ProgramError) as info:
        check(parse(text, "deep.py"), "deep.py")
    assert str(info.value).startswith(f"deep.py:{line}:{col}: {reason}"), str(info.value)


def test_printed_form_is_flat_and_reparses_to_the_same_program():
    p = parse(source("""
        def train(w, g, m, v, lr):
            v = interp(square(g), v, 1 - 0.001)
            update = interp(g, m, 0.9) / (sqrt(v) + eps) + w * -0.01 * -(lr)
            update -= clip(power(abs(g), 1.5), lr * 2) / norm(g * g + 1)
            m = interp(g, m, 0.9)
            return update, m, v
    """))
    printed = to_source(p)
    for statement in ast.parse(printed).body[0].body[:-1]:
        value = statement.value
        leaves = [value.left, value.right] if isinstance(value, ast.BinOp) else value.args
        for leaf in leaves:
            assert isinstance(leaf, (ast.Name, ast.Constant, ast.UnaryOp)), printed
            if isinstance(leaf, ast.UnaryOp):
                assert isinstance(leaf.operand, ast.Constant), printed
    assert parse(printed) == p
    assert to_source(parse(printed)) == printed
    assert check(p) is p


X, Y, Z = (np.array([1.5, -2.0, 0.25, 3.0]), np.array([0.5, 4.0, -1.0, 2.0]),
           np.array([-3.0, 0.75, 2.0, -0.5]))

PRECEDENCE = [
    ("x + y * z", lambda x, y, z: x + y * z,
     [("t1", "mul", "y", "z"), ("u", "add", "x", "t1")]),
    ("(x + y) * z", lambda x, y, z: (x + y) * z,
     [("t1", "add", "x", "y"), ("u", "mul", "t1", "z")]),
    ("-(x)", lambda x, y, z: -x, [("u", "negative", "x")]),
    ("-x * y", lambda x, y, z: -x * y, [("t1", "negative", "x"), ("u", "mul", "t1", "y")]),
    ("x - y - z", lambda x, y, z: x - y - z,
     [("t1", "sub", "x", "y"), ("u", "sub", "t1", "z")]),
    ("x - (y - z)", lambda x, y, z: x - (y - z),
     [("t1", "sub", "y", "z"), ("u", "sub", "x", "t1")]),
    ("x / y / z", lambda x, y, z: x / y / z,
     [("t1", "div", "x", "y"), ("u", "div", "t1", "z")]),
    ("x / y * z", lambda x, y, z: x / y * z,
     [("t1", "div", "x", "y"), ("u", "mul", "t1", "z")]),
    ("x - y * z / x + y", lambda x, y, z: x - y * z / x + y,
     [("t1", "mul", "y", "z"), ("t2", "div", "t1", "x"), ("t3", "sub", "x", "t2"),
      ("u", "add", "t3", "y")]),
    ("+x * -2", lambda x, y, z: +x * -2, [("u", "mul", "x", -2.0)]),
    ("sign(-x) - -y", lambda x, y, z: np.sign(-x) - -y,
     [("t1", "negative", "x"), ("t2", "sign", "t1"), ("t3", "negative", "y"),
      ("u", "sub", "t2", "t3")]),
]


@pytest.mark.parametrize("expression, meaning, expected", PRECEDENCE,
                         ids=[c[0] for c in PRECEDENCE])
def test_precedence_and_associativity_are_pythons(expression, meaning, expected):
    p = parse(f"def train(x, y, z, lr):\n    u = {expression}\n    return u, z\n")
    assert [(s.target, s.op, *(a.name if isinstance(a, Var) else a.value for a in s.args))
            for s in p.statements] == expected
    update, _ = Executor(p, dtype=np.float64).step(X, Y, (Z,), 1.0)
    np.testing.assert_allclose(update, meaning(X, Y, Z), rtol=1e-6)


def test_constants_anywhere_an_op_takes_them():
    p = check(parse(source("""
        def train(w, g, m, lr):
            u = interp(g, m, 1 - 0.9) * clip(g, 0.5 * lr) + power(2, -g) * pi
            return u, m
    """)))
    assert Statement("t1", "sub", (Const(1.0), Const(0.9))) in p.statements
    assert Statement("t3", "mul", (Const(0.5), Var("lr"))) in p.statements


def test_plain_copies_and_literals_are_still_not_statements():
    for value in ("g", "+g", "-2", "2.5"):
        with pytest.raises(ProgramError, match="2:9: a statement applies one op"):
            parse(f"def train(w, g, lr):\n    u = {value}\n    return u\n", "c.py")


def test_absurd_nesting_is_one_clear_error():
    deep = " + ".join(["g"] * 1000)
    with pytest.raises(ProgramError, match="nested too deeply"):
        parse(f"def train(w, g, lr):\n    u = {deep}\n    return u\n")
    chained = " + ".join(["g"] * 200)
    assert len(parse(f"def train(w, g, lr):\n    u = {chained}\n    return u\n")) == 199


def test_the_docs_example_is_read_as_the_docs_say():
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "programs.md").read_text()
    blocks = [textwrap.dedent(b) for b in
              re.findall(r"```python\n(.*?)```", text, re.S) if "t1 = " in b or "(lr * 0" in b]
    nested, flat = blocks
    assert to_source(parse(nested)) + "\n" == flat
    assert_same_run(parse(nested), load_seed("lion"))
