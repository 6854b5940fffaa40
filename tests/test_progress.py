"""The progress panel's budget line: counts against budgets, elapsed against the time
limit, and the ETA to the first budget that runs out (a pure formatter, and the panel
driven with a fake clock)."""

import io

import pytest

from search.cli import progress
from search.config import load_config
from search.cli.progress import Budgets, budget_fields, eta, format_budget
from search.rediscover import seed_config

UNKNOWN = {"programs": None, "evaluations": None}


def counts(programs, evaluations=0):
    return {"programs": programs, "evaluations": evaluations}


def rates(programs, evaluations=None):
    return {"programs": programs, "evaluations": evaluations}


def test_time_limit_only_is_the_time_left_whatever_the_rate():
    line = format_budget(counts(40, 10), Budgets(time_s=600), 408.0, UNKNOWN)
    assert line == ("elapsed 6m48s/10m00s | programs 40 (-/s) | evaluations 10 (-/s) | "
                    "ETA 3m12s (time limit)")
    assert eta(counts(40), Budgets(time_s=600), 408.0, rates(5.0)) == (192.0, "time limit")


def test_program_budget_only_is_what_is_left_over_the_recent_rate():
    fields = budget_fields(counts(40, 10), Budgets(programs=100), 12.0, rates(3.0, 0.8))
    assert fields == {"elapsed": "12s", "programs": "40/100 (3.0/s)",
                      "evaluations": "10 (0.8/s)", "ETA": "20s (program budget)"}


def test_the_budget_that_runs_out_first_wins():
    budgets = Budgets(programs=1000, evaluations=500, time_s=3600)
    # 900 programs left at 5/s: 3 min; 400 evaluations at 1/s: 6m40s; 50 min of time.
    assert eta(counts(100, 100), budgets, 600.0, rates(5.0, 1.0)) == (180.0, "program budget")
    fields = budget_fields(counts(100, 100), budgets, 600.0, rates(5.0, 1.0))
    assert fields["ETA"] == "3m00s (program budget)"
    assert fields["programs"] == "100/1000 (5.0/s)" and fields["evaluations"] == "100/500 (1.0/s)"
    # Fewer evaluations per program (more cache hits): the evaluation budget comes first.
    assert eta(counts(100, 100), budgets, 600.0, rates(5.0, 4.0)) == (100.0, "evaluation budget")
    # Slow progress: the time limit comes first.
    assert eta(counts(100, 100), budgets, 3500.0, rates(5.0, 1.0)) == (100.0, "time limit")


@pytest.mark.parametrize("rate", [None, 0.0])
def test_an_unknown_or_zero_rate_gives_no_estimate(rate):
    fields = budget_fields(counts(40), Budgets(programs=100, evaluations=50), 12.0,
                           rates(rate, rate))
    assert fields["ETA"] == "-"
    assert eta(counts(40), Budgets(programs=100), 12.0, rates(rate)) == (None, "")
    # A time limit still bounds the run.
    assert eta(counts(40), Budgets(programs=100, time_s=60), 12.0, rates(rate)) == \
        (48.0, "time limit")


def test_no_budget_no_eta():
    fields = budget_fields(counts(40, 10), Budgets(), 4000.0, rates(3.0, 0.8))
    assert fields == {"elapsed": "1h06m", "programs": "40 (3.0/s)", "evaluations": "10 (0.8/s)"}
    assert eta(counts(40, 10), Budgets(), 4000.0, rates(3.0, 0.8)) is None
    assert "ETA" not in format_budget(counts(40, 10), Budgets(), 4000.0, UNKNOWN)


def test_a_budget_already_spent_is_due_now():
    # The program budget is spent (the run finishes its in-flight batches): ETA 0, even
    # with no rate, and before a later time limit.
    assert budget_fields(counts(150), Budgets(programs=150, time_s=600), 30.0,
                         UNKNOWN)["ETA"] == "0s (program budget)"
    assert eta(counts(0, 51), Budgets(evaluations=50), 30.0, UNKNOWN) == \
        (0.0, "evaluation budget")
    # Past the time limit (a resumed run that had used it up): 0, not negative.
    fields = budget_fields(counts(10), Budgets(time_s=600), 650.0, UNKNOWN)
    assert fields["elapsed"] == "10m50s/10m00s" and fields["ETA"] == "0s (time limit)"
    assert eta(counts(10), Budgets(programs=20, time_s=600), 650.0, rates(1.0)) == \
        (0.0, "time limit")


def test_budgets_come_from_the_stop_settings():
    config = load_config("configs/quickstart.yaml", ["stop.max_programs=500",
                                                     "stop.max_evaluations=null",
                                                     "stop.time_limit_s=720"])
    assert Budgets.from_stop(config.stop) == Budgets(500, None, 720)
    # A rediscovery seed's: its time budget, and the config's program budget.
    assert Budgets.from_stop(seed_config(config, 3, 90.0).stop) == Budgets(500, None, 90.0)


class FakeStore:
    def top_programs(self, k):
        return []


def snapshot(elapsed, programs, evaluations):
    return dict(elapsed=elapsed, programs=programs, evaluations=evaluations,
                cache_hit_rate=0.25, redundant_share=0.0, best_fitness=0.5,
                island_best=[0.5], inflight=2)


def drive(monkeypatch, panel, updates):
    """Update ``panel`` at each ``(monotonic second, snapshot)`` of a fake clock."""
    clock = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    for second, shot in updates:
        clock[0] = float(second)
        panel.update(shot, store=FakeStore())


def test_plain_lines_of_a_resumed_run_count_its_totals(monkeypatch):
    stream = io.StringIO()
    panel = progress.Progress(plain_every_s=10.0, stream=stream,
                              budgets=Budgets(programs=400, time_s=600))
    # Resumed after 500 s and 300 programs: the controller's snapshots carry the run's
    # totals; rates count from the resume. An update every 2 s, a line every 10 s.
    drive(monkeypatch, panel, [(1000 + t, snapshot(500.0 + t, 300 + 2 * t, 100 + t // 2))
                               for t in range(0, 21, 2)])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("elapsed 8m20s/10m00s | programs 300/400 (-/s) | "
                               "evaluations 100 (-/s) | ETA 1m40s (time limit) | ")
    # 80 programs left at 2/s: 40 s, before the 90 s of time left.
    assert lines[1].startswith("elapsed 8m30s/10m00s | programs 320/400 (2.0/s) | "
                               "evaluations 105 (0.5/s) | ETA 40s (program budget) | ")
    assert lines[2].startswith("elapsed 8m40s/10m00s | programs 340/400 (2.0/s) | "
                               "evaluations 110 (0.5/s) | ETA 30s (program budget) | ")
    assert lines[2].endswith(" | cache hits 25% | best +0.5000 | islands [+0.5000]")


def test_the_terminal_panel_shows_the_budgets_and_the_eta(monkeypatch):
    from rich.console import Console

    panel = progress.Progress(stream=io.StringIO(), budgets=Budgets(evaluations=50))
    drive(monkeypatch, panel, [(0, snapshot(0.0, 0, 0))])
    table = panel._table(snapshot(100.0, 80, 20), FakeStore(), rates(0.8, 0.2))
    out = io.StringIO()
    Console(file=out, width=100).print(table)
    text = out.getvalue()
    for label, value in [("elapsed", "1m40s"), ("programs", "80 (0.8/s)"),
                         ("evaluations", "20/50 (0.2/s)  in flight 2"),
                         ("ETA", "2m30s (evaluation budget)")]:
        assert any(label in row and value in row for row in text.splitlines()), text
