"""The numbers a run's report plots, computed from one snapshot of its store.

* :func:`fitness_series`: best and median fitness against programs evaluated, the
  programs taken in the order they got a fitness (joined their island; cache hits
  included). Best is the best so far; median is over the last ``window`` programs to
  join (population size x islands: the populations, when no island restarted);
* :func:`stats_series`: cache-hit rate, invalid share (mutation draws rejected by
  abstract execution, over all draws) and failed-evaluation share against elapsed time,
  from the ``stats`` rows the search writes every ~2 s;
* :func:`length_series`: program length (statements, live statements) against programs
  generated, with a moving mean;
* :func:`first_lion`: the first Lion-family program, scanning in order of birth.

Long runs are sampled at :data:`MAX_POINTS` points (the last point always kept), so a
report of a million-program run stays small.

Example:
    >>> sample_indices(10, 4)
    [1, 4, 6, 9]
    >>> moving_median([1.0, 5.0, 2.0, 4.0], window=2, at=[0, 1, 2, 3])
    [1.0, 3.0, 3.5, 3.0]
"""

from __future__ import annotations

import numpy as np

from .program_marks import ProgramMarks
from .run_view import RunView

MAX_POINTS = 2000


def sample_indices(count: int, points: int = MAX_POINTS) -> list[int]:
    """Up to ``points`` indices into ``count`` items, evenly spread, ending at the last."""
    if count <= points:
        return list(range(count))
    return [(k + 1) * count // points - 1 for k in range(points)]


def moving_median(values, window: int, at) -> list[float]:
    """The median of the ``window`` values ending at each index in ``at``."""
    values = np.asarray(values, dtype=float)
    return [float(np.median(values[max(0, i + 1 - window):i + 1])) for i in at]


def _moving_mean(values, window: int, at) -> list[float]:
    sums = np.concatenate([[0.0], np.cumsum(np.asarray(values, dtype=float))])
    return [float((sums[i + 1] - sums[max(0, i + 1 - window)]) / (i + 1 - max(0, i + 1 - window)))
            for i in at]


def fitness_series(view: RunView) -> dict:
    """``x`` (programs with a fitness), ``best`` and ``median`` fitness, ``window``."""
    joined = view.joined()
    config = view.config
    window = int(config.get("population_size", 1)) * int(config.get("islands", 1))
    fitness = np.array([f for _, _, f in joined], dtype=float)
    at = sample_indices(len(fitness))
    best = np.maximum.accumulate(fitness) if len(fitness) else fitness
    return {"x": [i + 1 for i in at], "best": [float(best[i]) for i in at],
            "median": moving_median(fitness, window, at), "window": window,
            "ids": [joined[i][0] for i in at], "count": len(fitness)}


def stats_series(view: RunView) -> dict:
    """``elapsed`` seconds, ``cache_hit_rate``, ``invalid_share``, ``failed_share``."""
    rows = view.stats()
    at = sample_indices(len(rows))
    rows = [rows[i] for i in at]
    return {
        "elapsed": [r["elapsed"] for r in rows],
        "programs": [r["programs"] for r in rows],
        "cache_hit_rate": [r["cache_hit_rate"] for r in rows],
        "invalid_share": [_share(r.get("invalid", 0), r.get("invalid", 0) + r["programs"])
                          for r in rows],
        "failed_share": [_share(r["failed_evaluations"], r["evaluations"]) for r in rows],
    }


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def length_series(view: RunView) -> dict:
    """``x`` (program id), ``statements``, ``live``, and their moving means over
    ``window`` programs."""
    rows = view.rows("id, statements, redundant")
    statements = [r["statements"] for r in rows]
    live = [r["statements"] - r["redundant"] for r in rows]
    window = max(10, len(rows) // 50)
    at = sample_indices(len(rows))
    return {"x": [rows[i]["id"] for i in at], "statements": [statements[i] for i in at],
            "live": [live[i] for i in at], "window": window,
            "mean_statements": _moving_mean(statements, window, at),
            "mean_live": _moving_mean(live, window, at)}


def first_lion(view: RunView, marks: ProgramMarks) -> dict:
    """Where the first Lion-family program appeared.

    Returns ``{"status": "found", "id", "born_s", "born_evaluations", "fitness",
    "joined_rank"}``, ``{"status": "none", "checked"}`` (distinct structures checked)
    or ``{"status": "unknown"}`` when no recogniser is installed.
    """
    from programs.parser import parse

    if not marks.recognizes_lion:
        return {"status": "unknown"}
    checked = set()
    cursor = view.db.execute("SELECT id, structural_hash, source FROM programs ORDER BY id")
    for pid, shash, source in cursor:
        if shash in checked:
            continue
        checked.add(shash)
        if marks.lion(parse(source), shash):
            record = view.program(pid)
            rank = view.db.execute(
                "SELECT COUNT(*) FROM programs WHERE joined IS NOT NULL AND joined <= "
                "(SELECT joined FROM programs WHERE id=?)", (pid,)).fetchone()[0]
            return {"status": "found", "id": pid, "born_s": record.born_s,
                    "born_evaluations": record.born_evaluations,
                    "fitness": record.fitness, "joined_rank": rank or None}
    return {"status": "none", "checked": len(checked)}
