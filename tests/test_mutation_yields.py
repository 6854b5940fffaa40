"""``lion-search mutations``: per kind of mutation, the children, cache hits, children
behaving as their parent, evaluations and children better than their parent, read from
hand-made run stores whose programs are known."""

from __future__ import annotations

import json

import pytest

from search.cli import main
from search.store import RunStore
from tests.inspect_helpers import cli

SOURCE = "def train(w, g, lr):\n    u = g * 0.1\n    return u"


def _run(directory) -> None:
    """Seven programs: the warm start and six children of known kind and fate, with
    stats rows saying 4 programs existed at 10 s of search time and 7 at 20 s."""
    store = RunStore.create(directory, {"seed": 0})

    def add(parent, mutation, fp):
        return store.add_program(SOURCE, parent=parent, mutation=mutation, island=0,
                                 structural_hash=fp, fingerprint=fp, statements=1,
                                 redundant=0)

    warm = add(None, "warm start (adamw)", "A")
    store.join([warm], 0.0, cache_hit=False)
    better = add(warm, "modify: line 1 argument 2: 0.1 -> 0.2", "B")
    store.join([better], 0.05, cache_hit=False)           # evaluated, better by 0.05
    dead = add(warm, "insert: line 1: x = g * g", "A")
    store.join([dead], 0.0, cache_hit=True)               # as its parent: a cache hit
    twin = add(better, "delete: line 1: u = g * 0.2", "C")
    store.join([twin], 0.2, cache_hit=True)               # better, but not evaluated
    store.add_stats(10.0, {"programs": 4, "best_fitness": 0.2})
    close = add(better, "modify: line 1 argument 1: g -> w", "D")
    store.join([close], 0.055, cache_hit=False)           # better by less than 0.01
    migrant = add(better, "migrant from island 1", "B")
    store.join([migrant], 0.05, cache_hit=True)
    add(warm, "insert: line 1: y = sign(g)", "E")         # not evaluated yet
    store.add_stats(20.0, {"programs": 7, "best_fitness": 0.2})
    store.close()


def _counts(children, cache_hits, as_parent, evaluated, better, better_evaluated):
    return {"children": children, "cache_hits": cache_hits, "as_parent": as_parent,
            "evaluated": evaluated, "better": better, "better_evaluated": better_evaluated}


def test_each_kind_counts_its_children_and_those_better_than_their_parent(tmp_path):
    _run(tmp_path / "run")
    status, out, _ = cli("mutations", tmp_path / "run", "--json")
    assert status == 0
    [result] = json.loads(out)["mutations"]
    assert result["total"] == {
        "modify": _counts(2, 0, 0, 2, 1, 1),
        "insert": _counts(2, 1, 1, 0, 0, 0),
        "delete": _counts(1, 1, 0, 0, 1, 0),
        "migrant": _counts(1, 1, 1, 0, 0, 0)}
    # A wider margin: the modify that gained 0.05 no longer counts as better.
    status, out, _ = cli("mutations", tmp_path / "run", "--margin", "0.1", "--json")
    total = json.loads(out)["mutations"][0]["total"]
    assert total["modify"]["better"] == 0 and total["delete"]["better"] == 1


def test_until_counts_the_children_made_by_then_and_seeds_add_up(tmp_path):
    _run(tmp_path / "exp" / "seed-0")
    _run(tmp_path / "exp" / "seed-1")
    status, out, _ = cli("mutations", tmp_path / "exp", "--until", "15", "--json")
    assert status == 0
    result = json.loads(out)["mutations"][0]
    assert list(result["runs"]) == ["seed-0", "seed-1"]
    # In the first 15 s: programs 2-4 (one child of each kind), twice.
    assert result["total"] == {"modify": _counts(2, 0, 0, 2, 2, 2),
                               "insert": _counts(2, 2, 2, 0, 0, 0),
                               "delete": _counts(2, 2, 0, 0, 2, 0)}
    # A time past the runs' end counts them whole.
    status, out, _ = cli("mutations", tmp_path / "exp", "--until", "99", "--json")
    assert json.loads(out)["mutations"][0]["total"]["insert"]["children"] == 4


def test_the_table_gives_rates_per_child_and_per_evaluation(tmp_path):
    _run(tmp_path / "run")
    status, out, _ = cli("mutations", tmp_path / "run")
    assert status == 0
    assert "better by > 0.01" in out
    # modify: 2 children, both evaluated, 1 better: 500 per 1,000 of either
    assert "| modify | 2 | 0% | 0% | 2 | 1 | 500.00 | 1 | 500.00 |" in out
    # delete: better without an evaluation; none evaluated, so no rate per evaluation
    assert "| delete | 1 | 100% | 0% | 0 | 1 | 1000.00 | 0 | - |" in out


@pytest.mark.parametrize("args, message", [
    (["{tmp}/missing"], "no such directory"),
    (["{tmp}"], "neither a run"),
    (["{run}", "--until", "0"], "--until takes a positive number"),
])
def test_bad_input_is_one_line_and_status_2(tmp_path, args, message):
    _run(tmp_path / "run")
    empty = tmp_path / "empty"
    empty.mkdir()
    args = [a.format(tmp=empty, run=tmp_path / "run") for a in args]
    status, out, err = cli("mutations", *args)
    assert status == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_margin_that_is_not_a_number_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:  # argparse's own error, as the shell sees it
        main(["mutations", str(tmp_path), "--margin", "wide"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--margin" in err and len(err.strip().splitlines()) == 1


def test_a_damaged_run_database_is_one_line(tmp_path):
    _run(tmp_path / "run")
    (tmp_path / "run" / "run.sqlite").write_bytes(b"not a database" * 100)
    status, out, err = cli("mutations", tmp_path / "run")
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "run" in err
