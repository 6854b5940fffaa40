"""Simplification: evolved-looking programs become one-state Lion; every step is checked."""

import doctest
import json
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from programs.algebra import canonicalize, to_sympy
from programs.equivalence import compare
from programs.funcsim import fingerprint
from programs.generate import random_program
from programs.kinds import is_valid
from programs.parser import parse
from programs.printer import to_source
from programs.recognize import canonical_lion, recognize_lion
from programs.seed_programs import SEED_NAMES, load_seed
from programs.simplify import APPLIED, REJECTED, simplify
from programs.state_space import reduce_slots
from search.cli import main
from tests.conftest import program

# Lion with its momentum in the second slot; the first slot is written by dead code; the
# interp of the sign is split into mul/mul/add, the sign is a quotient, and the EMA is
# two interps whose weights 0.9 and 1.1 compose to 0.99.
EVOLVED_SLOT_V = """
    def train(w, g, m, v, lr):
        m = sqrt(v)
        a = g * 0.1
        b = v * 0.9
        c = a + b
        c2 = c * c
        r = sqrt(c2)
        d = c / r
        decay = w * 0.1
        d = d + decay
        lr = lr * 0.0001
        u = d * lr
        t = interp(g, v, 0.9)
        v = interp(g, t, 1.1)
        return u, m, v
"""

# Dead code on the second slot, odd constants (0.899, and 0.899 * 1.1 = 0.9889), the sign
# as x / sqrt(square(x)), an identity op and the weight decay split in two.
EVOLVED_ODD = """
    def train(w, g, m, v, lr):
        v = exp(g)
        junk = v * w
        a = interp(g, m, 0.899)
        sq = square(a)
        rr = sqrt(sq)
        s = a / rr
        wd = w * 1.0
        wd = wd * 0.3
        s = s + wd
        s = s * lr
        u = s * 0.0002
        t = interp(g, m, 0.899)
        m = interp(g, t, 1.1)
        return u, m, v
"""

# The same EMA kept in both slots (one is enough); sign of the sum, written x / |x|.
EVOLVED_TWO_COPIES = """
    def train(w, g, m, v, lr):
        x = interp(g, m, 0.95)
        y = interp(g, v, 0.95)
        z = x + y
        n = abs(z)
        s = z / n
        s = s * 0.5
        k = lr * 0.0003
        u = s * k
        t = w * k
        t = t * 0.25
        u = u + t
        m = interp(g, m, 0.98)
        v = interp(g, v, 0.98)
        return u, m, v
"""

# Heavy-ball momentum (100 x the EMA of rate 0.99) and the sign of m + 10 g / 0.1.
EVOLVED_HEAVY_BALL = """
    def train(w, g, m, v, lr):
        c = m * 0.09
        c = c + g
        s = sign(c)
        m = m * 0.99
        m = m + g
        u = s * lr
        u = u * 3e-05
        return u, m, v
"""

# Each slot is the EMA of the other's old value: the two carry the same EMA (0.99).
EVOLVED_CROSSED = """
    def train(w, g, m, v, lr):
        h = m + v
        h = h * 0.5
        c = interp(g, h, 0.9)
        c = c * 7.0
        s = sign(c)
        m2 = interp(g, v, 0.99)
        v = interp(g, m, 0.99)
        u = s * lr
        u = u * 0.001
        return u, m2, v
"""

CASES = [
    (EVOLVED_SLOT_V, (0.9, 0.99, 0.1, 1e-4)),
    (EVOLVED_ODD, (0.899, 0.9889, 0.3, 2e-4)),
    (EVOLVED_TWO_COPIES, (0.95, 0.98, 0.5, 1.5e-4)),
    (EVOLVED_HEAVY_BALL, (0.9, 0.99, 0.0, 3e-5)),
    (EVOLVED_CROSSED, (0.9, 0.99, 0.0, 1e-3)),
]


def assert_steps_checked(result):
    """Each applied exact step is funcsim-equal to the program before it."""
    previous = result.original
    for step in result.steps:
        after = parse(step.source + "\n")
        if step.status == APPLIED:
            assert compare(previous, after).equal, step.step
            assert step.check.startswith("funcsim-equal"), step
        else:
            assert fingerprint(after) == fingerprint(previous)
        previous = after
    assert previous == result.program


@pytest.mark.parametrize("text, constants", CASES)
def test_evolved_lion_simplifies_to_the_canonical_one_state_form(text, constants):
    original = program(text)
    result = simplify(original)
    assert result.program.num_state_slots == 1
    assert fingerprint(result.program) == fingerprint(original)
    b1, b2, wd, scale = constants
    if wd:
        assert to_source(result.program) == to_source(canonical_lion(b1, b2, wd, scale))
    else:  # no decay statements: the canonical Lion less the two of them
        assert len(result.program) == len(canonical_lion(b1, b2, wd, scale)) - 2
    assert_steps_checked(result)
    match = recognize_lion(result.program)
    assert match is not None
    assert (match.b1, match.b2, match.weight_decay, match.lr_scale) == pytest.approx(
        constants, rel=1e-9, abs=1e-12)


def test_report_says_what_changed_and_why():
    result = simplify(program(EVOLVED_SLOT_V))
    steps = {step.step: step for step in result.steps}
    assert steps["redundancy"].status == APPLIED
    assert any("dead state slot 'm'" in c for c in steps["redundancy"].changes)
    local = steps["local rewrites"]
    assert local.check == "funcsim-equal up to the safe-division epsilon"
    assert any("sign(x)" in c for c in local.changes)
    assert any("interp(g, v, 0.99)" in c for c in local.changes)
    assert steps["algebra"].status == "unchanged"  # nothing left for the canonical form
    assert steps["names"].state_slots == (1, 1)
    assert json.dumps([s.to_dict() for s in result.steps])  # serialisable


def test_state_slot_reductions_are_reported():
    merged = simplify(program(EVOLVED_TWO_COPIES))
    slots = next(s for s in merged.steps if s.step == "state slots")
    assert slots.status == APPLIED and slots.state_slots == (2, 1)
    assert slots.changes == ("slot v always equals m: merged into m",)
    heavy = simplify(program(EVOLVED_HEAVY_BALL))
    slots = next(s for s in heavy.steps if s.step == "state slots")
    assert "100 times an EMA of g" in slots.changes[0]


def test_linear_slots_in_fewest_slots():
    """v tracks 0.5 * m: not equal, but a fixed combination, so one slot suffices."""
    p = program("""
        def train(w, g, m, v, lr):
            s = m + v
            u = sign(s)
            h = g * 0.05
            k = v * 0.9
            v = h + k
            m = interp(g, m, 0.9)
            return u, m, v
    """)
    reduced, notes = reduce_slots(canonicalize(to_sympy(p)))
    assert len(reduced.slots) == 1 and "linear combination" in notes[0]
    result = simplify(p)
    assert result.program.num_state_slots == 1
    assert fingerprint(result.program) == fingerprint(p)


def test_zero_slot_is_dropped():
    p = program("""
        def train(w, g, m, v, lr):
            z = m * 0.5
            u = g + z
            m = z * 3.0
            return u, m, v
    """)
    result = simplify(p)
    assert result.program.num_state_slots == 0
    assert to_source(result.program) == "def train(w, g, lr):\n    return g"


def test_a_rewrite_that_fails_its_check_is_rejected_and_not_applied():
    """sympy says cosh(arccosh(w)) == w; the program clips w into [1, inf) first."""
    p = program("""
        def train(w, g, lr):
            a = arccosh(w)
            b = cosh(a)
            u = b * lr
            return u
    """)
    result = simplify(p)
    algebra = next(s for s in result.steps if s.step == "algebra")
    assert algebra.status == REJECTED
    assert algebra.check.startswith("not funcsim-equal")
    assert fingerprint(result.program) == fingerprint(p)
    assert [s.op for s in result.program.statements] == ["arccosh", "cosh", "mul"]


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seeds_keep_their_behaviour(name):
    seed = load_seed(name)
    result = simplify(seed)
    assert fingerprint(result.program) == fingerprint(seed)
    assert len(result.program) <= len(seed)
    assert_steps_checked(result)
    expected_slots = {"adamw": 2, "adam": 2, "sgd": 0, "signsgd": 0}.get(name, 1)
    assert result.program.num_state_slots == expected_slots


def test_signum_stays_signum():
    result = simplify(load_seed("signum"))
    assert recognize_lion(result.program) is None
    assert [s.op for s in result.program.statements] == ["interp", "sign", "mul", "mul"]


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.randoms(use_true_random=False), st.integers(0, 25), st.integers(0, 3))
def test_simplify_never_changes_behaviour_of_random_programs(rng, length, slots):
    p = random_program(rng, length, slots)
    result = simplify(p)
    assert is_valid(result.program)
    assert fingerprint(result.program) == fingerprint(p)
    assert result.program.num_state_slots <= p.num_state_slots
    assert parse(to_source(result.program) + "\n") == result.program


@SETTINGS
@given(st.randoms(use_true_random=False), st.integers(1, 12))
def test_simplify_removes_added_dead_code(rng, count):
    """Dead statements added to Lion disappear again."""
    from programs.mutation import MutationConfig, Mutator

    lion = load_seed("lion")
    mutator = Mutator(MutationConfig(insert=1, delete=0, modify=0, new_variable_prob=1.0,
                                     max_length=len(lion) + count))
    noisy = lion
    for _ in range(count):
        noisy, _ = mutator(noisy, rng)
    if fingerprint(noisy) != fingerprint(lion):
        return  # an insert overwrote a live name: not dead code
    assert simplify(noisy).program == simplify(lion).program


# -- the command line -------------------------------------------------------------------

def test_simplify_command_json(tmp_path, capsys):
    path = tmp_path / "evolved.py"
    path.write_text(textwrap.dedent(EVOLVED_ODD).strip() + "\n")
    assert main(["simplify", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["is_lion"] is True
    assert report["statements"] == 7 and report["state_slots"] == 1
    assert report["constants"] == {"b1": 0.899, "b2": 0.9889, "weight_decay": 0.3,
                                   "lr_scale": 0.0002}
    assert [s["step"] for s in report["steps"]] == ["redundancy", "local rewrites", "algebra",
                                                    "state slots", "names"]
    assert parse(report["source"] + "\n") == simplify(program(EVOLVED_ODD)).program


def test_simplify_command_text_and_errors(tmp_path, capsys):
    assert main(["simplify", str(_seed_file("adamw"))]) == 0
    out = capsys.readouterr().out
    assert "Lion-family: no" in out and "def train(w, g, momentum, second_moment, lr):" in out
    broken = tmp_path / "broken.py"
    broken.write_text("def train(w, g, lr):\n    u = frobnicate(g)\n    return u\n")
    assert main(["simplify", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown op 'frobnicate'" in err


def test_simplify_command_reports_the_lion_core_with_its_extras(tmp_path, capsys):
    path = tmp_path / "clipped.py"
    path.write_text("def train(w, g, m, v, lr):\n    c = interp(g, m, 0.9)\n"
                    "    s = sign(c)\n    s = clip(s, 0.5)\n    u = s * lr\n"
                    "    m = interp(g, m, 0.99)\n    return u, m, v\n")
    assert main(["simplify", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["is_lion"] is False and report["lion_core"]["b2"] == 0.99
    assert main(["simplify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Lion-family: Lion core with extras (b1=0.9, b2=0.99" in out and "Min(1/2" in out
    assert main(["simplify", str(_seed_file("signum")), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["lion_core"] is None


def _seed_file(name):
    from programs.seed_programs import seed_path
    return seed_path(name)


# -- the measured steps (they train on a tiny task) --------------------------------------

def test_measured_steps_round_constants_and_stay_within_the_tolerance():
    from evaluators import measured_simplification
    from evaluators.measured_simplification import MeasuredSimplifier
    from evaluators.suite import EvaluatorConfig
    from evaluators.tasks import get_task

    task = get_task("mlp", steps=10, hidden=8, train_size=256, val_size=128)
    measure = MeasuredSimplifier(EvaluatorConfig(suite=[task], seeds=(0,)), tolerance=0.02)
    original = program(EVOLVED_ODD)
    result = simplify(original, measure=measure)
    names = [s.step for s in result.steps]
    assert names[4:6] == ["measured: round constants", "measured: delete statements"]
    rounding = result.steps[4]
    assert rounding.status == APPLIED
    assert any("0.899 -> 0.9" in c for c in rounding.changes)
    # Every measured change is within the tolerance of the fitness before them.
    exact = parse(result.steps[3].source + "\n")
    base, final = measure.fitness([exact, result.program])
    assert abs(final - base) <= 0.02 + 1e-9
    assert measure.evaluations > 0
    assert doctest.testmod(measured_simplification).failed == 0


def test_round_values():
    from evaluators.measured_simplification import round_values

    assert round_values(0.899) == [0.9]
    assert round_values(0.9889) == [0.99, 0.989]
    assert round_values(1.1) == []           # 1.0 would turn an extrapolation off
    assert round_values(0.0101) == [0.01]
    assert round_values(0.5) == []
