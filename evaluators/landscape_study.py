"""The suite study: which tasks make Lion the summit of the tuned fitness?

Each task variant (a task with some settings changed) gets its own landscape
(:func:`evaluators.landscape.run_landscape` on that one task, paired seeds, every
program at its tuned multiplier). Since the tuned fitness of a suite is the mean over
its tasks, and each task's multiplier is tuned on its own, any suite made of measured
variants is scored offline from the per-seed results, without training again.

Usage::

    python -m evaluators.landscape_study run --out docs/landscape [--variants a,b]
    python -m evaluators.landscape_study combine docs/landscape vit_s600_b16 mlp

``run`` is resumable: a variant whose JSON is in ``--out`` is not measured again, so a
study killed at any point goes on where it stopped. Pin it to one core for the timings
(``taskset -c 1`` with ``XLA_FLAGS="--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1"``).

``combine`` prints, for the suite made of the given variants, what the acceptance
criteria of the suite ask: the best program and whether it has the Lion core, plain
Lion's margin over every program without the Lion core (mean, paired SE, z), the path's
worst step, and the cost of one candidate as the search pays it (``SEARCH_RUNS`` plain
evaluations of ``SEARCH_SEEDS`` seeds, one core).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from .landscape import LION, PANEL
from .paired import paired

VARIANTS = {
    # name: (task, size, overrides)
    "vit_s150": ("vit", "proxy", {"steps": 150, "warmup": 15}),   # the proxy before v2
    "mlp": ("mlp", "proxy", {}),
    "vit_s300": ("vit", "proxy", {"steps": 300, "warmup": 30}),
    "vit_s600": ("vit", "proxy", {"steps": 600, "warmup": 60}),
    "vit_s300_b16": ("vit", "proxy", {"steps": 300, "warmup": 30, "batch_size": 16}),
    "vit_s600_b16": ("vit", "proxy", {"steps": 600, "warmup": 60, "batch_size": 16}),
    "vit_s600_b8": ("vit", "proxy", {"steps": 600, "warmup": 60, "batch_size": 8}),
    "vit_s1200_b8": ("vit", "proxy", {"steps": 1200, "warmup": 120, "batch_size": 8}),
    "vit_s2400_b8": ("vit", "proxy", {"steps": 2400, "warmup": 240, "batch_size": 8}),
    "vit_s450_b16": ("vit", "proxy", {"steps": 450, "warmup": 45, "batch_size": 16}),
    "vit_s300_b8": ("vit", "proxy", {"steps": 300, "warmup": 30, "batch_size": 8}),
    "vit_s900_b8": ("vit", "proxy", {"steps": 900, "warmup": 90, "batch_size": 8}),
    "vit_s4800_b8": ("vit", "proxy", {"steps": 4800, "warmup": 480, "batch_size": 8}),
    "vit_s300_b128": ("vit", "proxy", {"batch_size": 128}),
    "mnist1d": ("mnist1d", "proxy", {}),
    "vit_meta10": ("vit", "meta10", {}),
    "charlm": ("charlm", "proxy", {}),
}
SEARCH_SEEDS = 2      # the search's evaluator.seeds
SEARCH_RUNS = 4.0     # plain evaluations per candidate, step-size search included


def variant_task(name: str):
    """The :class:`~evaluators.tasks.ProxyTask` of a variant."""
    from .tasks import get_task

    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; variants: {', '.join(VARIANTS)}")
    task, size, overrides = VARIANTS[name]
    return get_task(task, size, **overrides)


def panel_entries(names: str | None) -> tuple:
    """The panel entries named (comma-separated), Lion first; the whole panel for None.

    >>> [entry.name for entry in panel_entries("signum_0.9, lion")]
    ['lion', 'signum_0.9']
    """
    if names is None:
        return PANEL
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    known = {entry.name: entry for entry in PANEL}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ValueError(f"unknown panel program(s) {', '.join(unknown)}; the panel: "
                         f"{', '.join(known)}")
    return tuple(known[name] for name in dict.fromkeys([LION, *wanted]))


def run(out: Path, variants, seeds: int = 8, entries=PANEL) -> None:
    """Measure each variant not yet in ``out`` (one JSON each, written atomically) on
    the panel ``entries`` (default: all of it)."""
    from .landscape import run_landscape

    out.mkdir(parents=True, exist_ok=True)
    for name in variants:
        path = out / f"{name}.json"
        if path.exists():
            print(f"{name}: measured already ({path})", file=sys.stderr)
            continue
        print(f"{name}: measuring {len(entries)} programs on {seeds} seeds ...",
              file=sys.stderr, flush=True)
        result = run_landscape(suite=(variant_task(name),), seeds=seeds, entries=entries)
        result["variant"] = {"name": name, "task": VARIANTS[name][0],
                             "size": VARIANTS[name][1], "overrides": VARIANTS[name][2]}
        handle, temporary = tempfile.mkstemp(dir=out, suffix=".tmp")
        with os.fdopen(handle, "w") as stream:
            json.dump(result, stream, indent=1)
        os.replace(temporary, path)
        print(f"{name}: Lion rank {result['lion_rank']}, best {result['best_program']}, "
              f"{result['wall_s']:.0f} s", file=sys.stderr, flush=True)


def combine(results: list[dict]) -> dict:
    """The suite made of these variants' results: fitness per program, Lion's margins,
    the path, the cost per candidate."""
    programs = {}
    for entry in results[0]["programs"]:
        name = entry["name"]
        rows = [next(p for p in r["programs"] if p["name"] == name) for r in results]
        seed_fitness = np.mean([np.asarray(list(row["seed_fitness"].values())[0], float)
                                for row in rows], axis=0)
        programs[name] = {"name": name, "lion_core": entry["lion_core"],
                          "path": entry["path"],
                          "fitness": float(np.mean([row["fitness"] for row in rows])),
                          "tasks": [row["fitness"] for row in rows],
                          "_seeds": seed_fitness}
    lion = programs[LION]["_seeds"]
    for row in programs.values():
        row["diff_vs_lion"], row["se_vs_lion"], row["wins_vs_lion"] = paired(
            row.pop("_seeds"), lion)
    others = [p for p in programs.values() if not p["lion_core"]]
    margins = sorted(({"over": p["name"], "diff": -p["diff_vs_lion"], "se": p["se_vs_lion"],
                       "z": -p["diff_vs_lion"] / p["se_vs_lion"] if p["se_vs_lion"] else
                       math.inf} for p in others), key=lambda m: m["z"])
    path = sorted((p for p in programs.values() if p["path"] is not None),
                  key=lambda p: p["path"])
    drops = [b["fitness"] - a["fitness"] for a, b in zip(path, path[1:])]
    best = max(programs.values(), key=lambda p: p["fitness"])
    run_seconds = sum(r["seconds_per_program"] / (r["runs_per_program"] * r["seeds"])
                      for r in results)
    return {
        "suite": [r["variant"]["name"] for r in results],
        "best_program": best["name"], "best_has_lion_core": best["lion_core"],
        "lion_fitness": programs[LION]["fitness"],
        "weakest_margin": margins[0] if margins else None,
        "path": [round(p["fitness"], 4) for p in path],
        "path_max_drop": min(drops) if drops else 0.0,
        "candidate_seconds": SEARCH_RUNS * SEARCH_SEEDS * run_seconds,
        "programs": sorted(programs.values(), key=lambda p: -p["fitness"]),
    }


def format_combined(result: dict) -> str:
    lines = [f"suite {' + '.join(result['suite'])}: best {result['best_program']} "
             f"(Lion core: {'yes' if result['best_has_lion_core'] else 'no'}), "
             f"path worst step {result['path_max_drop']:+.4f}, "
             f"{result['candidate_seconds']:.2f} s per candidate"]
    for p in result["programs"]:
        lines.append(f"  {p['name']:<24} {'core' if p['lion_core'] else '':<4} "
                     f"{p['fitness']:+.4f}  tasks " + " ".join(f"{t:+.4f}" for t in p["tasks"])
                     + f"  vs Lion {p['diff_vs_lion']:+.4f} +- {p['se_vs_lion']:.4f}"
                       f" ({p['wins_vs_lion']} wins)")
    margin = result["weakest_margin"]
    if margin:
        lines.append(f"Lion's weakest margin: over {margin['over']}, {margin['diff']:+.4f} "
                     f"+- {margin['se']:.4f} (z {margin['z']:+.1f})")
    return "\n".join(lines)


def markdown_table(directory: Path, suites: list[list[str]]) -> str:
    """One row per suite (a list of measured variants): what the criteria ask."""
    head = ("| suite | best program | Lion | Lion - signum 0.9 | Lion - quickstart winner | "
            "weakest margin (z) | path worst step | s per candidate |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for names in suites:
        result = combine([json.loads((directory / f"{n}.json").read_text()) for n in names])
        rows = {p["name"]: p for p in result["programs"]}

        def margin(name):
            row = rows[name]
            return f"{-row['diff_vs_lion']:+.3f} +- {row['se_vs_lion']:.3f}"

        weakest = result["weakest_margin"]
        lines.append(
            f"| {' + '.join(names)} | {result['best_program']}"
            f"{' (core)' if result['best_has_lion_core'] else ''} | "
            f"{result['lion_fitness']:+.3f} | {margin('signum_0.9')} | "
            f"{margin('quickstart_winner')} | {weakest['over']} {weakest['diff']:+.3f} "
            f"({weakest['z']:+.1f}) | {result['path_max_drop']:+.3f} | "
            f"{result['candidate_seconds']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluators.landscape_study")
    sub = parser.add_subparsers(dest="command", required=True)
    measure = sub.add_parser("run", help="measure variants (resumable)")
    measure.add_argument("--out", required=True, type=Path)
    measure.add_argument("--variants", default=",".join(VARIANTS))
    measure.add_argument("--seeds", type=int, default=8)
    measure.add_argument("--programs", default=None,
                         help="comma-separated panel programs (default: the whole panel; "
                              "lion is always measured)")
    together = sub.add_parser("combine", help="score a suite of measured variants")
    together.add_argument("dir", type=Path)
    together.add_argument("variants", nargs="+")
    together.add_argument("--json", action="store_true")
    table = sub.add_parser("table", help="a markdown table of suites (each: variants "
                                         "joined by +)")
    table.add_argument("dir", type=Path)
    table.add_argument("suites", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "table":
        print(markdown_table(args.dir, [s.split("+") for s in args.suites]))
        return 0
    if args.command == "run":
        names = [n.strip() for n in args.variants.split(",") if n.strip()]
        unknown = [n for n in names if n not in VARIANTS]
        if unknown:
            print(f"unknown variant(s) {', '.join(unknown)}; variants: "
                  f"{', '.join(VARIANTS)}", file=sys.stderr)
            return 2
        try:
            entries = panel_entries(args.programs)
        except ValueError as err:
            print(err, file=sys.stderr)
            return 2
        run(args.out, names, args.seeds, entries)
        return 0
    missing = [n for n in args.variants if not (args.dir / f"{n}.json").exists()]
    if missing:
        print(f"{args.dir}: not measured: {', '.join(missing)}", file=sys.stderr)
        return 2
    result = combine([json.loads((args.dir / f"{n}.json").read_text())
                      for n in args.variants])
    print(json.dumps(result) if args.json else format_combined(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
