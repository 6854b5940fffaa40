"""Every file of the malformed corpus is rejected with its expected location and reason.

Each file in tests/data/malformed starts with ``# expect: LINE:COL: reason`` (or
``LINE: reason`` where no column applies); the error must name the file, that line and
column, and contain the reason.
"""

import re

from pathlib import Path

import pytest

from programs.errors import ProgramError
from programs.kinds import check
from programs.parser import parse_file

CORPUS = sorted((Path(__file__).parent / "data" / "malformed").glob("*.py"))


def expectation(path: Path) -> tuple[str, str]:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), path
    location, reason = re.fullmatch(r"# expect: (\d+(?::\d+)?): (.*)", first).groups()
    return f"{path}:{location}: ", reason


def test_corpus_is_large():
    assert len(CORPUS) >= 30


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_rejected_with_location_and_reason(path):
    where, reason = expectation(path)
    with pytest.raises(ProgramError) as info:
        check(parse_file(path), str(path))
    message = str(info.value)
    assert message.startswith(where), message
    assert reason in message, message
    assert "\n" not in message


def test_missing_file_names_the_file(tmp_path):
    missing = tmp_path / "nope.py"
    with pytest.raises(ProgramError, match="nope.py: no such file"):
        parse_file(missing)


def test_binary_file_is_rejected(tmp_path):
    path = tmp_path / "binary.py"
    path.write_bytes(b"\xff\xfe\x00def train")
    with pytest.raises(ProgramError, match="binary.py"):
        parse_file(path)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_cli_check_gives_one_line_and_status_2(capsys, path):
    from search.cli import main

    where, reason = expectation(path)
    assert main(["check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"lion-search check: {where}") and reason in err
    assert err.count("\n") == 1 and "Traceback" not in err
