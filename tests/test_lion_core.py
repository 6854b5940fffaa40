"""Lion-family, honestly: Lion, the Lion core with extras, and what is neither."""

from pathlib import Path

import pytest

from programs.lion_core import CORE, LION, is_lion_family, lion_family
from programs.parser import parse_file
from programs.seed_programs import SEED_NAMES, load_seed
from tests.conftest import program

ROOT = Path(__file__).resolve().parents[1]

CORE_WITH_EXTRAS = {
    "a clip on the step": ("""
        def train(w, g, m, lr):
            c = interp(g, m, 0.9)
            s = sign(c)
            s = clip(s, 0.5)
            d = w * 0.2
            s = s + d
            u = s * lr
            m = interp(g, m, 0.99)
            return u, m
    """, (0.9, 0.99, 0.4), "Min(1/2, sign(c))"),
    "a clipped gradient fed to both": ("""
        def train(w, g, m, lr):
            h = clip(g, 1.0)
            c = interp(h, m, 0.8)
            s = sign(c)
            u = s * lr
            m = interp(h, m, 0.95)
            return u, m
    """, (0.8, 0.95, 0.0), "the EMA's input is Max(-1, Min(1, g))"),
    "no schedule": ("""
        def train(w, g, m, lr):
            c = interp(g, m, 0.9)
            s = sign(c)
            d = w * 0.1
            s = s + d
            u = s * 0.001
            m = interp(g, m, 0.99)
            return u, m
    """, (0.9, 0.99, 0.1), "update = 0.001*sign(c) + 0.0001*w"),
    "the EMA read through a tanh in another slot": ("""
        def train(w, g, m, v, lr):
            c = interp(g, m, 0.9)
            s = sign(c)
            u = s * lr
            v = interp(g, v, 0.99)
            m = tanh(v)
            return u, m, v
    """, (0.9, 0.99, 0.0), "read as 0.9*tanh(s)"),
    "the EMA read a step late, through arctanh twice (found by a search)": ("""
        def train(w, g, m, v, lr):
            m = interp(g, m, 0.9)
            update = sign(m)
            wd = w * 0.1
            m = arctanh(v)
            update = update + wd
            m = arctanh(m)
            lr = lr * 0.0001
            update = update * lr
            v = interp(g, v, 0.99)
            return update, m, v
    """, (0.9, 0.99, 0.1), "a step late"),
}


@pytest.mark.parametrize("name", CORE_WITH_EXTRAS)
def test_lion_core_with_extras_is_recognised_apart_from_lion(name):
    text, (b1, b2, weight_decay), extra = CORE_WITH_EXTRAS[name]
    match = lion_family(program(text))
    assert match is not None and match.kind == CORE and match.lion is None
    assert (match.b1, match.b2) == pytest.approx((b1, b2), rel=1e-9)
    assert match.weight_decay == pytest.approx(weight_decay, abs=1e-12)
    assert any(extra in text for text in match.extras), match.extras
    assert is_lion_family(program(text))


NOT_LION = {
    "signum: one EMA for both": """
        def train(w, g, m, lr):
            m = interp(g, m, 0.9)
            s = sign(m)
            u = s * lr
            return u, m
    """,
    "signum with a clip on the step": """
        def train(w, g, m, lr):
            m = interp(g, m, 0.9)
            s = sign(m)
            s = clip(s, 0.5)
            u = s * lr
            return u, m
    """,
    "the gradient also reaches the update outside the sign (a search's cousin)": """
        def train(w, g, m, lr):
            c = interp(g, m, 0.9)
            a = sign(c)
            b = sign(g)
            u = a + b
            u = u * 0.001
            m = interp(g, m, 0.99)
            return u, m
    """,
    "an EMA of the squared gradient (the sign loses its direction)": """
        def train(w, g, m, lr):
            h = g * g
            c = interp(h, m, 0.9)
            a = sign(c)
            u = a * lr
            m = interp(h, m, 0.99)
            return u, m
    """,
    "the EMA read squared (no order kept)": """
        def train(w, g, m, v, lr):
            c = interp(g, m, 0.9)
            a = sign(c)
            u = a * lr
            v = interp(g, v, 0.99)
            m = v * v
            return u, m, v
    """,
    "the sign of the old momentum alone (b1 = 1)": """
        def train(w, g, m, lr):
            a = sign(m)
            u = a * lr
            m = interp(g, m, 0.99)
            return u, m
    """,
    "the sign scaled by the gradient": """
        def train(w, g, m, lr):
            c = interp(g, m, 0.9)
            a = sign(c)
            a = a * g
            u = a * lr
            m = interp(g, m, 0.99)
            return u, m
    """,
}


@pytest.mark.parametrize("name", NOT_LION)
def test_what_is_not_lion_family(name):
    assert lion_family(program(NOT_LION[name])) is None


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seeds(name):
    match = lion_family(load_seed(name))
    if name == "lion":
        assert match.kind == LION and match.extras == () and match.lion is not None
        assert (match.b1, match.b2, match.weight_decay) == (0.9, 0.99, 0.1)
    else:
        assert match is None


@pytest.mark.parametrize("path, kind", [
    ("programs/panel/lion_winner_multiplier.py", CORE),
    ("programs/panel/lion_no_schedule.py", CORE),
    ("programs/panel/path_5_lion.py", LION),
    ("programs/panel/quickstart_v2_winner.py", None),
    ("programs/panel/signum_0.9.py", None),
    ("programs/ladder/rung1_signum_slow_ema.py", None),
    ("programs/ladder/rung2_adamw_sign_step.py", None),
])
def test_panel_and_ladder(path, kind):
    match = lion_family(parse_file(ROOT / path))
    assert (match.kind if match else None) == kind


def test_one_mutation_from_rung_1_is_lion():
    source = (ROOT / "programs/ladder/rung1_signum_slow_ema.py").read_text()
    assert source.count("m = interp(g, m, 0.9)") == 1
    mutated = source.replace("m = interp(g, m, 0.9)", "m = interp(g, v, 0.9)")
    match = lion_family(program(mutated))
    assert match.kind == LION and (match.b1, match.b2, match.weight_decay) == (0.9, 0.99, 0.1)


def test_the_landscape_panel_says_which_of_its_programs_have_the_lion_core():
    # The landscape study ranks Lion against every program without its core; a panel
    # entry flagged wrongly would be judged on the wrong side, and a file dropped into
    # programs/panel/ without an entry would never be judged at all.
    from evaluators.landscape import PANEL, PANEL_DIR, panel_programs

    programs = panel_programs()
    assert {entry.name: entry.lion_core for entry in PANEL} == {
        name: lion_family(program) is not None for name, program in programs.items()}
    assert {path.stem for path in PANEL_DIR.glob("*.py")} <= set(programs)
