"""``lion-search check`` and ``lion-search funcsim``."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from programs.seed_programs import seed_path
from search.cli import main

MALFORMED = Path(__file__).parent / "data" / "malformed"


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_check_prints_the_canonical_program(capsys):
    status, out, err = run(capsys, "check", str(seed_path("adamw")))
    assert status == 0 and err == ""
    assert "def train(w, g, m, v, lr):" in out and "update = m / sqrt_v" in out
    assert "0 redundant" in out


def test_check_json_lists_redundant_statements_with_file_lines(capsys, tmp_path):
    path = tmp_path / "evolved.py"
    path.write_text('"""An evolved-looking program."""\n\n\n'
                    "def train(w, g, m, v, lr):\n"
                    "    junk = exp(g)\n"
                    "    c = interp(g, m, 0.9)\n"
                    "    v = cosh(junk)\n"
                    "    update = sign(c)\n"
                    "    m = interp(g, m, 0.99)\n"
                    "    return update, m, v\n")
    status, out, _ = run(capsys, "check", str(path), "--json")
    assert status == 0
    report = json.loads(out)
    assert report["source"].startswith("def train(w, g, m, v, lr):\n    junk = exp(g)")
    assert [(r["line"], r["source"]) for r in report["redundant"]] == [
        (5, "junk = exp(g)"), (7, "v = cosh(junk)")]
    assert report["live_state_slots"] == ["m"]


def test_check_marks_redundant_lines_in_text_output(capsys, tmp_path):
    path = tmp_path / "p.py"
    path.write_text("def train(w, g, lr):\n    x = exp(g)\n    u = sign(g)\n    return u\n")
    _, out, _ = run(capsys, "check", str(path))
    assert re.search(r"\n    x = exp\(g\) +# redundant\n    u = sign\(g\)\n", out)
    assert "line 2: x = exp(g)" in out


@pytest.mark.parametrize("name", ["unknown_op", "import", "syntax_error", "scalar_update"])
def test_bad_program_is_one_line_and_status_2(capsys, name):
    path = MALFORMED / f"{name}.py"
    status, out, err = run(capsys, "check", str(path))
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and str(path) in err and "Traceback" not in err


def error_line(capsys) -> str:
    """The one line a command wrote to stderr (having written nothing to stdout)."""
    out, err = capsys.readouterr()
    assert out == "" and err.endswith("\n") and err.count("\n") == 1, (out, err)
    return err[:-1]


def test_missing_file(capsys, tmp_path):
    status, out, err = run(capsys, "funcsim", str(tmp_path / "a.py"), str(seed_path("lion")))
    assert (status, out, err) == (2, "", f"lion-search funcsim: {tmp_path / 'a.py'}: no such "
                                         "file\n")


def test_funcsim_json(capsys):
    status, out, _ = run(capsys, "funcsim", str(seed_path("lion")), str(seed_path("lion")),
                         "--json")
    assert status == 0 and json.loads(out)["match"] is True
    assert json.loads(out)["similarity"] == 1.0
    _, out, _ = run(capsys, "funcsim", str(seed_path("lion")), str(seed_path("signum")),
                    "--json")
    result = json.loads(out)
    assert result["match"] is False and 0.0 <= result["similarity"] < 1.0


def test_console_script_reports_errors_without_traceback():
    process = subprocess.run(
        [sys.executable, "-m", "search.cli", "check", str(MALFORMED / "loop.py")],
        capture_output=True, text=True)
    assert (process.returncode, process.stdout) == (2, "")
    assert process.stderr == (f"lion-search check: {MALFORMED / 'loop.py'}:3:5: loops are not "
                              "allowed: a program is straight-line code\n")
    usage = subprocess.run([sys.executable, "-m", "search.cli", "nope"],
                           capture_output=True, text=True)
    assert (usage.returncode, usage.stdout) == (2, "") and usage.stderr.count("\n") == 1
    assert usage.stderr.startswith("lion-search: error: argument command: invalid choice: "
                                   "'nope' (choose from 'check', ")


def test_bench_options_are_checked(capsys):
    assert main(["bench", "programs", "--suite", "mlp"]) == 2
    assert error_line(capsys) == "lion-search bench: --suite: not an option of `bench programs`"
    assert main(["bench", "landscape", "--program-axis", "map"]) == 2
    assert error_line(capsys) == \
        "lion-search bench: --program-axis: not an option of `bench landscape`"
    assert main(["bench", "landscape", "--seeds", "1"]) == 2
    assert error_line(capsys) == \
        "lion-search bench: --seeds must be >= 2 (paired standard errors need two)"
    assert main(["bench", "landscape", "--seeds", "0,1"]) == 2
    assert error_line(capsys) == "lion-search bench: --seeds 0,1: expected a count like 8"
    assert main(["bench", "eval", "--seeds", "0,x"]) == 2
    assert error_line(capsys) == "lion-search bench: --seeds 0,x: expected integers like 0,1"
    assert main(["bench", "eval", "--suite", "nope"]) == 2
    assert error_line(capsys).startswith(
        "lion-search bench: unknown suite or task 'nope'; suites: ")
