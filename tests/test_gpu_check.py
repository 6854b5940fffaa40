"""The prepared GPU check (benchmarks/gpu_check.sh) runs on a machine lent for minutes:
each of its commands must be one the command line accepts, or the minutes are lost.
Here each is parsed and validated by the real CLI, with the benchmarks themselves
replaced by recorders (this machine has no GPU)."""

import re
import shlex
from pathlib import Path

import pytest

import evaluators.benchmark
import evaluators.landscape
from search.cli import main

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.sh"


def script_commands() -> list[list[str]]:
    """The arguments of each ``$cli ...`` line of the script (continuations joined,
    redirections dropped)."""
    text = re.sub(r"\\\n\s*", " ", SCRIPT.read_text())
    commands = []
    for line in text.splitlines():
        if line.lstrip().startswith("#") or "$cli " not in line:
            continue
        words = shlex.split(line.split("$cli ", 1)[1].split(">", 1)[0])
        commands.append(words)
    return commands


def test_the_script_runs_the_two_benches():
    assert [words[:2] for words in script_commands()] == [["bench", "eval"],
                                                          ["bench", "landscape"]]


@pytest.mark.parametrize("words", script_commands(), ids=lambda words: words[1])
def test_each_command_of_the_gpu_check_is_accepted(words, monkeypatch, capsys):
    received = []

    def record(quick=False, **options):
        received.append(options)
        return {}

    monkeypatch.setattr(evaluators.benchmark, "run_benchmark", record)
    monkeypatch.setattr(evaluators.landscape, "run_benchmark", record)
    assert main(words) == 0, capsys.readouterr().err
    assert len(received) == 1 and received[0]["device"] == "gpu"
    assert received[0]["suite"] == "gpu"
