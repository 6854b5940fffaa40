"""Parsing a program file never runs its code, through the API or the command line.

Each case below is source that creates a marker file when Python runs it (at import, at
``def`` time, or when ``train`` is called); the control test shows that it does. Parsing
it, and every ``lion-search`` command that reads a program file, must reject it with one
line naming file:line:col, and the marker must not exist afterwards.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from programs.errors import ProgramError
from programs.parser import parse_file
from programs.seed_programs import seed_path
from search.cli import main

SIGNATURE = "def train(w, g, m, v, lr):"
CASES = {
    "module level": f"open(MARKER, 'w').close()\n\n\n{SIGNATURE}\n    return g, m, v\n",
    "module import": f"import pathlib\npathlib.Path(MARKER).touch()\n\n\n{SIGNATURE}\n"
                     "    return g, m, v\n",
    "exec at module level": f"exec(\"open(MARKER, 'w')\")\n\n\n{SIGNATURE}\n"
                            "    return g, m, v\n",
    "class body": f"class X:\n    open(MARKER, 'w')\n\n\n{SIGNATURE}\n    return g, m, v\n",
    "decorator": f"@open(MARKER, 'w')\n{SIGNATURE}\n    return g, m, v\n",
    "default value": "def train(w, g, m, v, lr=open(MARKER, 'w')):\n    return g, m, v\n",
    "annotation": "def train(w: open(MARKER, 'w'), g, m, v, lr):\n    return g, m, v\n",
    "call in train": f"{SIGNATURE}\n    f = open(MARKER, 'w')\n    return g, m, v\n",
    "nested call in train": f"{SIGNATURE}\n    u = sign(g + open(MARKER, 'w'))\n"
                            "    return u, m, v\n",
    "__import__ in train": f"{SIGNATURE}\n    u = __import__('pathlib').Path(MARKER).touch()\n"
                           "    return u, m, v\n",
    "with in train": f"{SIGNATURE}\n    with open(MARKER, 'w') as f:\n        u = sign(g)\n"
                     "    return u, m, v\n",
    "f-string in train": f"{SIGNATURE}\n    u = g * f\"{{open(MARKER, 'w')}}\"\n"
                         "    return u, m, v\n",
    "exec in train": f"{SIGNATURE}\n    exec(\"open(MARKER, 'w')\")\n    return g, m, v\n",
    "after a valid body": f"{SIGNATURE}\n    u = sign(g)\n    return u, m, v\n\n\n"
                          "open(MARKER, 'w')\n",
}


def write_case(directory: Path, name: str) -> tuple[Path, Path]:
    marker = directory / "marker"
    path = directory / "program.py"
    path.write_text(CASES[name].replace("MARKER", repr(str(marker))))
    return path, marker


@pytest.mark.parametrize("name", CASES)
def test_control_running_the_code_creates_the_marker(tmp_path, name):
    path, marker = write_case(tmp_path, name)
    namespace = {"sign": lambda x: x}
    try:  # what `import program` and a call of train would do (test code, not the parser)
        exec(compile(path.read_text(), str(path), "exec"), namespace)
        namespace["train"](0.0, 0.0, 0.0, 0.0, 0.0)
    except Exception:
        pass
    assert marker.exists()


@pytest.mark.parametrize("name", CASES)
def test_parse_rejects_and_creates_nothing(tmp_path, name):
    path, marker = write_case(tmp_path, name)
    with pytest.raises(ProgramError) as info:
        parse_file(path)
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: \S", str(info.value)), str(info.value)
    assert "\n" not in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize("name", CASES)
def test_cli_commands_reject_and_create_nothing(tmp_path, capsys, name):
    path, marker = write_case(tmp_path, name)
    lion = str(seed_path("lion"))
    for argv in (["check", str(path)], ["check", str(path), "--json"],
                 ["funcsim", lion, str(path)], ["simplify", str(path)],
                 ["export", str(path), "-o", str(tmp_path / "out.py")]):
        assert main(argv) == 2, argv
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and f"{path}:" in err, (argv, err)
        assert not marker.exists(), argv
    assert not (tmp_path / "out.py").exists()


def test_console_script_creates_nothing(tmp_path):
    path, marker = write_case(tmp_path, "module level")
    process = subprocess.run([sys.executable, "-m", "search.cli", "check", str(path)],
                             capture_output=True, text=True)
    assert process.returncode == 2 and "Traceback" not in process.stderr
    assert process.stderr == (f"lion-search check: {path}:1:1: only `def train(...)` and a "
                              "docstring may appear at module level\n")
    assert not marker.exists()
