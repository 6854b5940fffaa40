"""``lion-search climb``: how fast runs climbed, from the stats their stores keep.

A run's climb is its best fitness against elapsed search time (the ``stats`` rows the
search writes every ~2 s; a resumed run's elapsed time goes on from where it stopped).
For each run, or each seed of a ``rediscover`` experiment, it reports the best fitness
at the given times (``--at``) and the time at which the best first reached each level
(``--reach``), with the search's counters at each time (programs generated, evaluations,
cache-hit rate, share of statements dead). ``end`` among the times is each run's end:
its last stats row, or, for a seed whose run store is gone, the best its
``result.json`` recorded (such a seed answers nothing else, but the time limit it
stopped at). Given two directories it pairs their runs by name (``seed-0`` with
``seed-0``) and reports, for each time, the mean difference (second minus first), its
standard error and the wins of the second: the paired comparison of two search
settings on the same seeds.

Example:
    $ lion-search climb runs/rung3 runs/rung3-cap32 --at 300,600,900,end --reach 0.193,0.3
    >>> curve = [(2.0, None), (4.0, 0.1), (9.0, 0.3)]
    >>> best_at(curve, 5.0), best_at(curve, 3.0), time_to_reach(curve, 0.2)
    (0.1, None, 9.0)
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from evaluators.paired import paired

from .markdown import markdown_table
from .run_view import database_errors_as_usage, open_run

Curve = list  # [(elapsed seconds, best fitness or None)], in order of elapsed time
END = math.inf  # ``--at end``: a run's end, whenever that was
# The search's counters that say how it spent its time (the stats rows' keys).
COUNTERS = ("programs", "evaluations", "cache_hit_rate", "redundant_share")


def add_climb_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dirs", nargs="+", metavar="DIR",
                        help="a run directory or a rediscover experiment (its seed-K runs); "
                             "two to compare them seed by seed")
    parser.add_argument("--at", default="300,600,900,1800,3600",
                        help="elapsed seconds at which to read the best fitness, or "
                             "'end' (each run's end) (comma-separated; default "
                             "300,600,900,1800,3600)")
    parser.add_argument("--reach", default="",
                        help="fitness levels: when the best first reached each "
                             "(comma-separated, e.g. 0.193,0.3)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


def best_at(curve: Curve, seconds: float) -> float | None:
    """The best fitness at ``seconds`` of elapsed time (None: none yet, or the run had
    not got that far: see :func:`reached`)."""
    best = None
    for elapsed, value in curve:
        if elapsed > seconds:
            break
        best = value if value is not None else best
    return best


def reached(curve: Curve, seconds: float) -> bool:
    """Whether the run went on for ``seconds`` (its last stats row is at or after it);
    every run reaches its :data:`END`."""
    return bool(curve) and (seconds == END or curve[-1][0] >= seconds)


def time_to_reach(curve: Curve, level: float) -> float | None:
    """Elapsed seconds when the best fitness first reached ``level`` (None: never)."""
    for elapsed, value in curve:
        if value is not None and value >= level:
            return elapsed
    return None


def counters_at(rows: list[dict], seconds: float) -> dict | None:
    """The :data:`COUNTERS` of the last stats row at or before ``seconds`` (None when
    there is none, or the run stopped before ``seconds``).

    >>> rows = [{"elapsed": 2.0, "programs": 5}, {"elapsed": 9.0, "programs": 40}]
    >>> counters_at(rows, 5.0)["programs"], counters_at(rows, 10.0)
    (5, None)
    """
    if not rows or (seconds != END and rows[-1]["elapsed"] < seconds):
        return None
    last = [row for row in rows if row["elapsed"] <= seconds]
    return {key: last[-1].get(key) for key in COUNTERS} if last else None


def stats_rows(view) -> list[dict]:
    """The stats rows of a run (a :class:`RunView`), in order of elapsed time, each
    ``elapsed`` a float."""
    return [dict(row, elapsed=float(row["elapsed"])) for row in view.stats()]


def read_stats(directory: Path) -> list[dict]:
    """The stats rows of the run in ``directory`` (:func:`stats_rows`)."""
    view = open_run(directory)
    try:
        with database_errors_as_usage(directory):
            return stats_rows(view)
    finally:
        view.close()


def runs_of(directory: Path) -> dict[str, Path]:
    """``{name: run directory}``: the directory itself (a run) or its ``seed-K`` runs (an
    experiment: those with a run store, and those whose store is gone but whose
    ``result.json`` remains; seeds with neither are left out)."""
    from . import UsageError

    if not directory.is_dir():
        raise UsageError(f"{directory}: no such directory")
    if (directory / "run.sqlite").exists():
        return {directory.name: directory}
    seeds = sorted((p for p in directory.glob("seed-*")
                    if (p / "run.sqlite").exists() or (p / "result.json").exists()),
                   key=lambda p: (len(p.name), p.name))
    if not any((p / "run.sqlite").exists() for p in seeds):
        raise UsageError(f"{directory}: neither a run (no run.sqlite) nor an experiment "
                         f"with seed-K run stores")
    return {p.name: p for p in seeds}


def result_only(run_dir: Path) -> dict:
    """A seed whose run store is gone, from its ``result.json``: its best and counts at
    its end, nothing before (``None``: unknown). ``limit_s``: the time limit it stopped
    at (None when it stopped otherwise), at which its best is its end's."""
    from . import UsageError

    try:
        result = json.loads((run_dir / "result.json").read_text())
        elapsed, best = float(result["elapsed_s"]), result["best_fitness"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"{run_dir / 'result.json'}: not a seed's result ({error})") from None
    end = {"programs": result.get("programs"), "evaluations": result.get("evaluations"),
           "cache_hit_rate": None, "redundant_share": None}
    limit = result.get("budget_s") if result.get("stopped") == "time limit" else None
    return {"elapsed_s": round(elapsed, 1), "best": best, "counters": end,
            "limit_s": None if limit is None else float(limit)}


def paired_by_name(first: dict[str, float | None], second: dict[str, float | None]) -> dict:
    """Second minus first (:func:`evaluators.paired.paired`) over the names both have a
    value for: ``n``, ``mean``, ``se`` (None for fewer than two pairs), ``wins`` (second
    ahead).

    >>> paired_by_name({"a": 0.1, "b": 0.2, "c": None}, {"a": 0.3, "b": 0.1, "c": 0.5})
    {'n': 2, 'mean': 0.05, 'se': 0.15, 'wins': 1}
    """
    names = [k for k in first if first[k] is not None and second.get(k) is not None]
    if not names:
        return {"n": 0, "mean": None, "se": None, "wins": 0}
    mean, se, wins = paired([second[k] for k in names], [first[k] for k in names])
    return {"n": len(names), "mean": round(mean, 6),
            "se": None if math.isnan(se) else round(se, 6), "wins": wins}


def climb(directory: Path, at: list[float], levels: list[float]) -> dict:
    """Per run of ``directory``: best fitness at each of ``at`` (None where the run
    stopped earlier or had none yet), seconds to each of ``levels``, its counters at
    each of ``at`` and its length."""
    runs = {}
    for name, run_dir in runs_of(directory).items():
        if not (run_dir / "run.sqlite").exists():
            only = result_only(run_dir)
            known = {END, only["limit_s"]}  # its end, and the time limit it stopped at
            runs[name] = {
                "elapsed_s": only["elapsed_s"], "result_only": True,
                "best_at": {_key(t): only["best"] if t in known else None for t in at},
                "time_to": {_key(x): None for x in levels},
                "counters_at": {_key(t): only["counters"] if t in known else None
                                for t in at}}
            continue
        rows = read_stats(run_dir)
        curve = [(row["elapsed"], row.get("best_fitness")) for row in rows]
        runs[name] = {
            "elapsed_s": round(curve[-1][0], 1) if curve else 0.0,
            "best_at": {_key(t): (best_at(curve, t) if reached(curve, t) else None)
                        for t in at},
            "time_to": {_key(x): _round(time_to_reach(curve, x)) for x in levels},
            "counters_at": {_key(t): counters_at(rows, t) for t in at}}
    return {"dir": str(directory), "runs": runs}


def _parse_list(text: str, option: str) -> list[float]:
    from . import UsageError

    parts = [part.strip() for part in text.split(",") if part.strip()]
    try:
        return [END if option == "--at" and part == "end" else float(part)
                for part in parts]
    except ValueError:
        allowed = "numbers or 'end'" if option == "--at" else "numbers"
        raise UsageError(f"{option} takes comma-separated {allowed}, not {text!r}") from None


def _key(value: float) -> str:
    return "end" if value == END else f"{value:g}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _cell(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def run_climb(args) -> int:
    from . import UsageError

    if len(args.dirs) > 2:
        raise UsageError("give one directory, or two to compare")
    at = _parse_list(args.at, "--at")
    levels = _parse_list(args.reach, "--reach")
    results = [climb(Path(d), at, levels) for d in args.dirs]
    comparison = None
    if len(results) == 2:
        comparison = {_key(t): paired_by_name(
            {k: r["best_at"][_key(t)] for k, r in results[0]["runs"].items()},
            {k: r["best_at"][_key(t)] for k, r in results[1]["runs"].items()}) for t in at}
    if args.json:
        print(json.dumps({"climbs": results, "paired": comparison}))
        return 0
    for result in results:
        print(_climb_table(result, at, levels))
    if comparison:
        print(f"{args.dirs[1]} minus {args.dirs[0]}, best fitness, paired by seed:")
        for t, c in comparison.items():
            se = "-" if c["se"] is None else f"{c['se']:.3f}"
            mean = "-" if c["mean"] is None else f"{c['mean']:+.3f}"
            print(f"  at {_when(t)}: {mean} +- {se}, {c['wins']} of {c['n']} ahead")
        if END in at and (uneven := uneven_ends(*results)):
            print("  (the end pairs runs of different lengths: " + ", ".join(
                f"{name} {a:.0f} s against {b:.0f} s" for name, a, b in uneven) + ")")
    return 0


def uneven_ends(first: dict, second: dict, tolerance: float = 0.05) -> list:
    """``(name, elapsed, elapsed)`` of the runs both climbs hold whose lengths differ by
    more than ``tolerance`` (a share of the longer): pairing their ends compares a short
    search with a long one.

    >>> uneven_ends({"runs": {"a": {"elapsed_s": 900}, "b": {"elapsed_s": 3600}}},
    ...             {"runs": {"a": {"elapsed_s": 3605}, "b": {"elapsed_s": 3602}}})
    [('a', 900, 3605)]
    """
    pairs = [(name, run["elapsed_s"], second["runs"][name]["elapsed_s"])
             for name, run in first["runs"].items() if name in second["runs"]]
    return [(name, a, b) for name, a, b in pairs if abs(a - b) > tolerance * max(a, b)]


def _when(key: str) -> str:
    return "the end" if key == "end" else f"{key} s"


def _climb_table(result: dict, at: list[float], levels: list[float]) -> str:
    header = (["run", "elapsed s"] + [f"best at {_when(_key(t))}" for t in at]
              + [f"s to {_key(x)}" for x in levels])
    lines = [f"{result['dir']}:"] + markdown_table(header, (
        [name, f"{run['elapsed_s']:.0f}"]
        + [_cell(run["best_at"][_key(t)], "+.3f") for t in at]
        + [("?" if run.get("result_only") else _cell(run["time_to"][_key(x)], ".0f"))
           for x in levels]
        for name, run in result["runs"].items()))
    if any(run.get("result_only") for run in result["runs"].values()):
        lines.append("(a seed whose run store is gone, from its result.json: its best at "
                     "its end only, ? unknown)")
    if at:  # how each run spent its time, at the last time asked for
        t = _key(at[-1])
        counters = {name: run["counters_at"][t] or {} for name, run in result["runs"].items()}
        lines += [f"at {_when(t)}:"] + markdown_table(
            ["run", "programs", "evaluations", "cache hits", "dead code"],
            ([name, _cell(c.get("programs"), ","), _cell(c.get("evaluations"), ","),
              _cell(c.get("cache_hit_rate"), ".0%"), _cell(c.get("redundant_share"), ".0%")]
             for name, c in counters.items()))
    return "\n".join(lines)
