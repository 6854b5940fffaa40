"""``lion-search climb``: best fitness against search time, and two experiments paired
by seed, read from hand-made run stores whose stats rows are known."""

from __future__ import annotations

import json

import pytest

from search.store import RunStore
from tests.inspect_helpers import cli


def _run(directory, climb: list[tuple[float, float | None]]) -> None:
    """A run store whose stats rows record ``climb``: (elapsed, best fitness), with
    counters that grow with the elapsed time (10 programs and 1 evaluation a second)."""
    store = RunStore.create(directory, {"seed": 0})
    for elapsed, best in climb:
        store.add_stats(elapsed, {"best_fitness": best, "programs": 10 * elapsed,
                                  "evaluations": elapsed, "cache_hit_rate": elapsed / 1000,
                                  "redundant_share": 0.5, "invalid": 3})
    store.close()


@pytest.fixture
def experiments(tmp_path):
    """Two experiments of three seeds each; seed 2 of the second has no run store (a
    seed described and its store removed: only its result.json is left) and seed 1 of
    the first stopped after 400 s."""
    base, new = tmp_path / "base", tmp_path / "new"
    _run(base / "seed-0", [(2, None), (100, 0.10), (500, 0.20), (900, 0.20)])
    _run(base / "seed-1", [(2, 0.05), (300, 0.15), (400, 0.15)])
    _run(base / "seed-2", [(2, 0.00), (800, 0.30), (900, 0.30)])
    _run(new / "seed-0", [(2, 0.00), (200, 0.25), (900, 0.35)])
    _run(new / "seed-1", [(2, 0.00), (600, 0.10), (900, 0.12)])
    (new / "seed-2").mkdir()
    (new / "seed-2" / "result.json").write_text(json.dumps(
        {"seed": 2, "budget_s": 900.0, "stopped": "time limit", "elapsed_s": 903.4,
         "found": False, "programs": 9000, "evaluations": 850, "best_fitness": 0.40}))
    (new / "seed-3").mkdir()  # neither store nor result: not a seed that ran
    return base, new


def test_best_at_each_time_and_time_to_each_level(experiments):
    base, _ = experiments
    status, out, _ = cli("climb", base, "--at", "50,300,900", "--reach", "0.15,0.3", "--json")
    assert status == 0
    runs = json.loads(out)["climbs"][0]["runs"]
    assert list(runs) == ["seed-0", "seed-1", "seed-2"]
    assert runs["seed-0"]["best_at"] == {"50": None, "300": 0.10, "900": 0.20}
    # seed 1 stopped at 400 s: nothing is claimed for 900 s
    assert runs["seed-1"]["best_at"] == {"50": 0.05, "300": 0.15, "900": None}
    assert runs["seed-0"]["time_to"] == {"0.15": 500, "0.3": None}
    assert runs["seed-2"]["time_to"] == {"0.15": 800, "0.3": 800}
    # The counters of the last stats row at or before each time (none past a run's end).
    assert runs["seed-0"]["counters_at"]["300"] == {
        "programs": 1000, "evaluations": 100, "cache_hit_rate": 0.1, "redundant_share": 0.5}
    assert runs["seed-0"]["counters_at"]["50"]["programs"] == 20
    assert runs["seed-1"]["counters_at"]["900"] is None


def test_two_experiments_are_paired_by_seed(experiments):
    base, new = experiments
    status, out, _ = cli("climb", base, new, "--at", "300,900", "--json")
    assert status == 0
    result = json.loads(out)
    # seed 2's store is gone: it claims nothing at 300 s, and at 900 s the best it
    # stopped with at its time limit of 900 s
    assert list(result["climbs"][1]["runs"]) == ["seed-0", "seed-1", "seed-2"]
    assert result["climbs"][1]["runs"]["seed-2"]["best_at"] == {"300": None, "900": 0.40}
    # at 300 s: seed-0 0.25 - 0.10, seed-1 0.00 - 0.15
    at300 = result["paired"]["300"]
    assert (at300["n"], at300["wins"]) == (2, 1)
    assert at300["mean"] == pytest.approx(0.0)
    assert at300["se"] == pytest.approx(0.15)
    # at 900 s seeds 0 and 2 have both sides (seed 1 of the base stopped at 400 s)
    assert result["paired"]["900"] == {"n": 2, "mean": pytest.approx(0.125),
                                       "se": pytest.approx(0.025), "wins": 2}


def test_tables_name_every_run_and_the_paired_difference(experiments):
    base, new = experiments
    status, out, _ = cli("climb", base, new, "--at", "300", "--reach", "0.2")
    assert status == 0
    assert "| seed-1 | 400 | +0.150 | - |" in out
    assert "| seed-0 | 900 | +0.250 | 200 |" in out
    assert "at 300 s: +0.000 +- 0.150, 1 of 2 ahead" in out
    assert "| seed-0 | 2,000 | 200 | 20% | 50% |" in out  # the new seed 0's counters


def test_the_end_pairs_every_seed_including_one_known_by_its_result_only(experiments):
    base, new = experiments
    status, out, _ = cli("climb", base, new, "--at", "900,end", "--reach", "0.2", "--json")
    assert status == 0
    result = json.loads(out)
    base_runs, new_runs = (c["runs"] for c in result["climbs"])
    # A run's end is its last stats row, however early it stopped.
    assert base_runs["seed-1"]["best_at"] == {"900": None, "end": 0.15}
    assert base_runs["seed-1"]["counters_at"]["end"]["programs"] == 4000
    # The seed known by its result.json alone: its best and counts at its end and at
    # the time limit it stopped at, nothing claimed before (not even when it reached a
    # level).
    counts = {"programs": 9000, "evaluations": 850, "cache_hit_rate": None,
              "redundant_share": None}
    assert new_runs["seed-2"] == {
        "elapsed_s": 903.4, "result_only": True, "best_at": {"900": 0.40, "end": 0.40},
        "time_to": {"0.2": None}, "counters_at": {"900": counts, "end": counts}}
    # at the end: 0.35 - 0.20, 0.12 - 0.15, 0.40 - 0.30
    end = result["paired"]["end"]
    assert (end["n"], end["wins"]) == (3, 2)
    assert end["mean"] == pytest.approx((0.15 - 0.03 + 0.10) / 3, abs=1e-6)
    status, out, _ = cli("climb", base, new, "--at", "end", "--reach", "0.2")
    assert "| seed-2 | 903 | +0.400 | ? |" in out
    assert "at the end: +0.073 +- " in out and "2 of 3 ahead" in out
    # seed 1 of the base stopped at 400 s: its end is not the new seed 1's
    assert "(the end pairs runs of different lengths: seed-1 400 s against 900 s)" in out


@pytest.mark.parametrize("args, message", [
    (["{tmp}/missing"], "no such directory"),
    (["{tmp}"], "neither a run"),
    (["{base}", "--at", "ten"], "--at takes comma-separated numbers or 'end'"),
    (["{base}", "--reach", "end"], "--reach takes comma-separated numbers"),
    (["{base}", "{base}", "{base}"], "give one directory, or two"),
])
def test_bad_input_is_one_line_and_status_2(experiments, tmp_path, args, message):
    base, _ = experiments
    empty = tmp_path / "empty"
    empty.mkdir()
    args = [a.format(tmp=empty, base=base) for a in args]
    status, out, err = cli("climb", *args)
    assert status == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1
