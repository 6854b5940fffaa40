"""Live progress of a search: a rich table on a terminal, a plain line elsewhere.

Shows the counts against the run's budgets (programs n/max, evaluations n/max, elapsed
against the time limit) with programs/s and evaluations/s over the last 30 s, an ETA
to the first budget that will run out, the cache-hit rate, the best fitness per island
and the current best program.

Example:
    >>> line = format_line({"elapsed": 12.0, "programs": 40, "evaluations": 10,
    ...                     "cache_hit_rate": 0.5, "best_fitness": 0.01,
    ...                     "island_best": [0.01]},
    ...                    {"programs": 3.0, "evaluations": 0.8}, Budgets(programs=100))
    >>> line.split(" | ")[:4]  # doctest: +NORMALIZE_WHITESPACE
    ['elapsed 12s', 'programs 40/100 (3.0/s)', 'evaluations 10 (0.8/s)',
     'ETA 20s (program budget)']
"""

from __future__ import annotations

import collections
import sys
import time
import typing

RATE_WINDOW_S = 30.0


class Budgets(typing.NamedTuple):
    """A run's totals (None: no limit): they count the whole run, resumes included, as
    ``stop`` does."""

    programs: int | None = None
    evaluations: int | None = None
    time_s: float | None = None

    @classmethod
    def from_stop(cls, stop) -> "Budgets":
        """From a config's ``stop`` settings (:class:`~search.config.StopSettings`)."""
        return cls(stop.max_programs or None, stop.max_evaluations or None,
                   stop.time_limit_s or None)


def duration(seconds: float) -> str:
    """``45s``, ``3m12s``, ``2h05m``.

    >>> duration(44.6), duration(192), duration(7500)
    ('45s', '3m12s', '2h05m')
    """
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m"


def eta(counts: dict, budgets: Budgets, elapsed: float,
        rates: dict) -> tuple[float | None, str] | None:
    """Seconds until the first budget runs out, and which: ``(seconds, "program budget")``.

    The time limit's is the time left; a count budget's is what is left of it over its
    recent rate (``rates[kind]``, per second; None or 0 means unknown, and that budget
    gives no estimate). The smallest estimate wins; a budget already spent is 0. None
    without any budget; ``(None, "")`` when no budget gives an estimate.

    >>> eta({"programs": 40, "evaluations": 10}, Budgets(programs=100, time_s=600),
    ...     120.0, {"programs": 0.5, "evaluations": 0.1})
    (120.0, 'program budget')
    """
    if budgets == Budgets():
        return None
    estimates = []
    if budgets.time_s is not None:
        estimates.append((max(0.0, budgets.time_s - elapsed), "time limit"))
    for kind, budget in (("programs", budgets.programs), ("evaluations", budgets.evaluations)):
        if budget is None:
            continue
        left, rate = budget - counts[kind], rates.get(kind)
        if left <= 0:
            estimates.append((0.0, f"{kind[:-1]} budget"))
        elif rate:
            estimates.append((left / rate, f"{kind[:-1]} budget"))
    return min(estimates, key=lambda estimate: estimate[0]) if estimates else (None, "")


def budget_fields(counts: dict, budgets: Budgets, elapsed: float,
                  rates: dict) -> dict[str, str]:
    """The budget fields, by name: elapsed, programs and evaluations (each against its
    budget where there is one, with its rate) and the ETA (only with a budget).

    ``counts``: the run's totals (``programs``, ``evaluations``); ``elapsed``: the run's
    total seconds; ``rates``: per second over the recent window, None when not known.

    >>> fields = budget_fields({"programs": 150, "evaluations": 60},
    ...                        Budgets(150, None, 3600), 4000.0,
    ...                        {"programs": 2.0, "evaluations": None})
    >>> for name, text in fields.items():
    ...     print(f"{name}: {text}")
    elapsed: 1h06m/1h00m
    programs: 150/150 (2.0/s)
    evaluations: 60 (-/s)
    ETA: 0s (time limit)
    """
    fields = {"elapsed": duration(elapsed) if budgets.time_s is None else
              f"{duration(elapsed)}/{duration(budgets.time_s)}"}
    for kind in ("programs", "evaluations"):
        budget = getattr(budgets, kind)
        rate = "-" if rates.get(kind) is None else f"{rates[kind]:.1f}"
        fields[kind] = f"{counts[kind]}{'' if budget is None else f'/{budget}'} ({rate}/s)"
    estimate = eta(counts, budgets, elapsed, rates)
    if estimate is not None:
        seconds, which = estimate
        fields["ETA"] = "-" if seconds is None else f"{duration(seconds)} ({which})"
    return fields


def format_budget(counts: dict, budgets: Budgets, elapsed: float, rates: dict) -> str:
    """The budget line of the plain output (see :func:`budget_fields`).

    >>> print(format_budget({"programs": 40, "evaluations": 10}, Budgets(time_s=600),
    ...                     120.0, {"programs": 0.0, "evaluations": 0.0}))
    elapsed 2m00s/10m00s | programs 40 (0.0/s) | evaluations 10 (0.0/s) | ETA 8m00s (time limit)
    """
    return " | ".join(f"{name} {text}"
                      for name, text in budget_fields(counts, budgets, elapsed, rates).items())


def format_line(snapshot: dict, rates: dict, budgets: Budgets = Budgets()) -> str:
    """One plain progress line: the budget line, the cache-hit rate, the best fitness."""
    best = snapshot.get("best_fitness")
    islands = ", ".join(f"{b:+.4f}" for b in snapshot.get("island_best", [])
                        if b != float("-inf"))
    return " | ".join([
        format_budget(snapshot, budgets, snapshot["elapsed"], rates),
        f"cache hits {snapshot['cache_hit_rate']:.0%}",
        f"best {best:+.4f}" if best is not None else "best -",
        f"islands [{islands}]",
    ])


class Progress:
    """``update(snapshot, store)`` after each stats row; ``close()`` at the end.

    ``budgets``: the run's (:meth:`Budgets.from_stop` of its config's ``stop``).
    """

    def __init__(self, plain_every_s: float = 10.0, stream=None, budgets: Budgets = Budgets()):
        self.stream = stream or sys.stdout
        self.budgets = budgets
        self.live = None
        self.plain_every_s = plain_every_s
        self.last_plain = 0.0
        self.history = collections.deque()
        if self.stream.isatty():
            from rich.live import Live

            self.live = Live(refresh_per_second=2, transient=False)
            self.live.start()

    def _rates(self, snapshot: dict) -> dict:
        """Programs/s and evaluations/s over the last :data:`RATE_WINDOW_S` seconds (or
        since the first update; None at the first): evaluations land in batches, so a
        rate over the last update alone reads 0 between them."""
        now = time.monotonic()
        self.history.append((now, snapshot["programs"], snapshot["evaluations"]))
        while len(self.history) > 2 and now - self.history[1][0] >= RATE_WINDOW_S:
            self.history.popleft()
        then, programs, evaluations = self.history[0]
        span = now - then
        if span <= 0:
            return {"programs": None, "evaluations": None}
        return {"programs": (snapshot["programs"] - programs) / span,
                "evaluations": (snapshot["evaluations"] - evaluations) / span}

    def update(self, snapshot: dict, store) -> None:
        rates = self._rates(snapshot)
        if self.live is None:
            if time.monotonic() - self.last_plain >= self.plain_every_s:
                self.last_plain = time.monotonic()
                print(format_line(snapshot, rates, self.budgets), file=self.stream, flush=True)
            return
        self.live.update(self._table(snapshot, store, rates))

    def _table(self, snapshot, store, rates):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        fields = budget_fields(snapshot, self.budgets, snapshot["elapsed"], rates)
        table = Table(title="lion-search", show_header=False)
        table.add_row("elapsed", fields["elapsed"])
        table.add_row("programs", fields["programs"])
        table.add_row("evaluations", f"{fields['evaluations']}  in flight "
                                     f"{snapshot.get('inflight', 0)}")
        if "ETA" in fields:
            table.add_row("ETA", fields["ETA"])
        table.add_row("cache-hit rate", f"{snapshot['cache_hit_rate']:.1%}")
        table.add_row("redundant share", f"{snapshot['redundant_share']:.1%}")
        for index, best in enumerate(snapshot.get("island_best", [])):
            shown = "-" if best == float("-inf") else f"{best:+.4f}"
            table.add_row(f"island {index} best", shown)
        parts = [table]
        top = store.top_programs(1)
        if top:
            source = store.program(top[0]["program"])["source"]
            parts.append(Text(f"best program (fitness {top[0]['fitness']:+.4f}):\n{source}"))
        return Group(*parts)

    def close(self) -> None:
        """Stop the live display (once; closing again does nothing)."""
        if self.live is not None:
            self.live.stop()
            self.live = None
