"""``lion-search mutations``: what each kind of mutation yielded in a run, from its store.

For a run, or each seed of a ``rediscover`` experiment and their total, it counts per
kind of mutation (``insert``, ``delete``, ``modify``; ``migrant`` and ``restart`` where
a run has them) the children it made, how many were cache hits, how many behave as
their parent (the same fingerprint: a change to dead code, or one that cancels), how
many were evaluated (cost training), and how many came out better than their parent
by more than ``--margin`` in fitness, also per evaluation: the figures by which to
weigh the kinds (``mutation.insert``, ``mutation.delete``, ``mutation.modify``).
``--until S`` counts only the children made in the first S seconds of search time (read
from the stats rows), so that runs of different lengths compare; a run that stopped
sooner counts whole.

Example:
    $ lion-search mutations runs/settings/cap20 --until 900
    >>> kind_of("modify: line 7 argument 1: update -> wd"), kind_of("migrant from island 1")
    ('modify', 'migrant')
    >>> yields = tally([{"mutation": "delete: line 2: u = g", "cache_hit": True,
    ...                  "as_parent": False, "fitness": 0.3, "parent_fitness": 0.1}], 0.01)
    >>> yields["delete"]["children"], yields["delete"]["better"], yields["delete"]["evaluated"]
    (1, 1, 0)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .climb import counters_at, runs_of, stats_rows
from .markdown import markdown_table
from .run_view import database_errors_as_usage, open_run

# What is counted per kind (children better than their parent: ``better``; those of
# them that were evaluated, not cache hits: ``better_evaluated``).
COUNTS = ("children", "cache_hits", "as_parent", "evaluated", "better", "better_evaluated")


def add_mutations_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dirs", nargs="+", metavar="DIR",
                        help="a run directory or a rediscover experiment (its seed-K runs)")
    parser.add_argument("--margin", type=float, default=0.01,
                        help="a child is better when its fitness exceeds its parent's by "
                             "more than this (default 0.01)")
    parser.add_argument("--until", type=float, default=None, metavar="S",
                        help="count only the children made in the first S seconds of "
                             "search time (default: all)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


def kind_of(mutation: str) -> str:
    """The kind of a mutation, the first word of its description."""
    return mutation.split(":")[0].split()[0].lower()


def tally(children: list[dict], margin: float) -> dict[str, dict]:
    """``{kind: counts}`` over ``children`` (rows of :meth:`RunView.children`), the kinds
    in order of first appearance. A child not yet joined (no fitness) counts as a child
    only."""
    yields: dict[str, dict] = {}
    for child in children:
        counts = yields.setdefault(kind_of(child["mutation"]), dict.fromkeys(COUNTS, 0))
        counts["children"] += 1
        counts["cache_hits"] += child["cache_hit"]
        counts["as_parent"] += child["as_parent"]
        if child["fitness"] is None:
            continue
        evaluated = not child["cache_hit"]
        counts["evaluated"] += evaluated
        if (child["parent_fitness"] is not None
                and child["fitness"] > child["parent_fitness"] + margin):
            counts["better"] += 1
            counts["better_evaluated"] += evaluated
    return yields


def summed(per_run: dict[str, dict[str, dict]]) -> dict[str, dict]:
    """The counts of several runs added up, kind by kind."""
    total: dict[str, dict] = {}
    for yields in per_run.values():
        for kind, counts in yields.items():
            into = total.setdefault(kind, dict.fromkeys(COUNTS, 0))
            for key in COUNTS:
                into[key] += counts[key]
    return total


def mutation_yields(directory: Path, margin: float, until: float | None = None) -> dict:
    """Per run of ``directory`` and in total: ``{kind: counts}`` (of the children made in
    the first ``until`` seconds of search time; all where None, or where a run stopped
    sooner)."""
    runs = {}
    for name, run_dir in runs_of(directory).items():
        view = open_run(run_dir)
        try:
            with database_errors_as_usage(run_dir):
                counters = None if until is None else counters_at(stats_rows(view), until)
                runs[name] = tally(view.children(counters and counters["programs"]), margin)
        finally:
            view.close()
    return {"dir": str(directory), "margin": margin, "until": until, "runs": runs,
            "total": summed(runs)}


def _share(part: int, whole: int, scale: float = 1.0, fmt: str = ".0%") -> str:
    return "-" if not whole else format(scale * part / whole, fmt)


def yields_table(yields: dict[str, dict], margin: float) -> list[str]:
    """The counts of one run (or a total) as a markdown table, kinds as rows."""
    header = ["kind", "children", "cache hits", "as parent", "evaluated",
              f"better by > {margin:g}", "per 1,000 children", "of them evaluated",
              "per 1,000 evaluated"]
    return markdown_table(header, (
        [kind, f"{c['children']:,}", _share(c["cache_hits"], c["children"]),
         _share(c["as_parent"], c["children"]), f"{c['evaluated']:,}", f"{c['better']:,}",
         _share(c["better"], c["children"], 1000, ".2f"), f"{c['better_evaluated']:,}",
         _share(c["better_evaluated"], c["evaluated"], 1000, ".2f")]
        for kind, c in yields.items()))


def run_mutations(args) -> int:
    from . import UsageError

    if args.until is not None and args.until <= 0:
        raise UsageError(f"--until takes a positive number of seconds, not {args.until:g}")
    results = [mutation_yields(Path(d), args.margin, args.until) for d in args.dirs]
    if args.json:
        print(json.dumps({"mutations": results}))
        return 0
    for result in results:
        several = len(result["runs"]) > 1
        title = (f"{result['dir']}" + (f", {len(result['runs'])} runs together" if several
                                       else "")
                 + ("" if args.until is None else f", the first {args.until:g} s"))
        print("\n".join([f"{title}:"] + yields_table(result["total"], args.margin)))
    return 0
