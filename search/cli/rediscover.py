"""``lion-search rediscover``: N seeded searches for Lion, and how often and how fast.

Example:
    $ lion-search rediscover configs/ladder/rung1.yaml --seeds 3 --out runs/rung1
    $ lion-search rediscover configs/ladder/rung1.yaml --seeds 5 --out runs/rung1 --resume
    $ lion-search rediscover configs/ladder/rung1.yaml --seeds 3 --first-seed 2 --out b
      (seeds 2, 3 and 4: an experiment split across machines or sessions)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from . import markdown
from .resume_hint import resume_command


def add_rediscover_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="YAML search config (see configs/ and configs/ladder/)")
    parser.add_argument("--seeds", type=int, required=True,
                        help="independent searches, seeds 0..N-1 (from --first-seed)")
    parser.add_argument("--first-seed", type=int, metavar="K",
                        help="the first seed: seeds K..K+N-1 (default 0), to split an "
                             "experiment across machines or sessions")
    parser.add_argument("--out", required=True, help="experiment directory (created)")
    parser.add_argument("--budget-s", type=float,
                        help="seconds per seed (default: the config's stop.time_limit_s)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set warm_start=adamw")
    parser.add_argument("--simplify-suite",
                        help="suite of the measured simplification of what is found "
                             "(default: the config's meta-validation suite; none: exact "
                             "simplification only)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the experiment in --out (more --seeds, more budget)")
    parser.add_argument("--address", help="join an existing Ray cluster at this address")
    parser.add_argument("--json", action="store_true",
                        help="end with one JSON line: seeds, found, rate, runs")


# The options a resume repeats (argparse destinations), besides the config and --set.
RESUMED_OPTIONS = ("seeds", "first_seed", "out", "budget_s", "simplify_suite", "address")


def run_rediscover(args) -> int:
    from . import UsageError
    from ..config import ConfigError, load_config
    from ..warm_start import warm_start_program
    from ..rediscover import RediscoverError, check_new, manifest, read_manifest

    try:
        config = load_config(args.config, args.set)
    except ConfigError as err:
        raise UsageError(str(err)) from None
    if args.seeds < 1:
        raise UsageError(f"--seeds must be >= 1, not {args.seeds}")
    first_seed = args.first_seed or 0  # None (not given) is 0, left out of resume hints
    if first_seed < 0:
        raise UsageError(f"--first-seed must be >= 0, not {first_seed}")
    if args.budget_s is not None and not args.budget_s > 0:
        raise UsageError(f"--budget-s must be > 0, not {args.budget_s}")
    budget = args.budget_s if args.budget_s is not None else config.stop.time_limit_s
    if budget is None or not budget > 0:
        raise UsageError(f"{args.config}: no time budget: give --budget-s or set "
                         "stop.time_limit_s")
    suite = _simplify_suite(args, config)
    warm_start_program(config.warm_start, config.evaluator.max_length)  # fails early
    out = Path(args.out)
    asked = manifest(config, args.config, args.seeds, budget, suite, first_seed)
    try:
        if args.resume:
            _check_resume(read_manifest(out), asked)
        else:
            check_new(out)
    except RediscoverError as err:
        raise UsageError(str(err)) from None
    return _experiment(args, config, out, asked)


def _simplify_suite(args, config) -> str | None:
    from evaluators.suite import resolve_suite

    from . import UsageError

    suite = args.simplify_suite or config.meta_validation.suite
    if suite == "none":
        return None
    try:
        resolve_suite(suite)
    except ValueError as err:
        raise UsageError(f"--simplify-suite: {str(err).splitlines()[0]}") from None
    return suite


def _check_resume(stored: dict, asked: dict) -> None:
    from ..controller import OPERATIONAL_KEYS
    from ..rediscover import check_resumable

    check_resumable(stored, asked, OPERATIONAL_KEYS)


def _experiment(args, config, out: Path, asked: dict) -> int:
    from . import UsageError
    from ..controller import EvaluatorFailure
    from ..rediscover import MANIFEST
    from .run import start_ray
    from .simplify import write_atomically
    from ..workers import DeviceError, plan_actors, start_actors

    address = args.address or config.ray.address
    start_ray(address, config.ray.dashboard)
    import ray  # after start_ray: Ray reads its auth and local-only settings on import

    try:
        try:
            plan_actors(ray.cluster_resources(), config.workers.actors,
                        config.workers.gpus_per_actor, config.evaluator.device)
        except DeviceError as err:
            raise UsageError(f"{args.config}: {err}; use --set evaluator.device=cpu") from None
        out.mkdir(parents=True, exist_ok=True)
        write_atomically(out / MANIFEST, json.dumps(asked, indent=2) + "\n")
        plan, actors = start_actors(config)
        print(f"{plan.count} evaluator actor(s); {_seeds_text(asked)} of at most "
              f"{asked['budget_s']:.0f} s each, one after another", flush=True)
        try:
            status = _seeds(args, config, out, asked, actors)
        except EvaluatorFailure as err:
            print(f"lion-search rediscover: {err}. Nothing evaluated is lost; mend the cause "
                  f"and resume with: {resume_command('rediscover', args, RESUMED_OPTIONS)}",
                  file=sys.stderr)
            return 1
    finally:
        if address is None:
            ray.shutdown()
    summary = _summary(out, asked)
    write_atomically(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_atomically(out / "summary.md", markdown_table(summary) + "\n")
    print_table(summary)
    if status == 130:
        resume = resume_command("rediscover", args, RESUMED_OPTIONS)
        print(f"interrupted; resume with: {resume}")
    elif args.json:
        print(json.dumps({k: summary[k] for k in ("seeds", "found", "rate", "runs")}))
    return status


def _seeds(args, config, out: Path, asked: dict, actors) -> int:
    from ..controller import Search
    from .progress import Budgets, Progress
    from ..rediscover import (DONE, NEW, PARTIAL, RESULT, describe_seed, seed_config,
                             seed_directory, seed_range, seed_state)
    from .simplify import write_atomically
    from ..store import RunStore

    def log(message):
        print(message, flush=True)

    budget = asked["budget_s"]
    for seed in seed_range(asked):
        state = seed_state(out, seed, budget)
        if state == DONE:
            continue
        directory = seed_directory(out, seed)
        if state in (NEW, PARTIAL):
            settings = seed_config(config, seed, budget)
            progress = Progress(budgets=Budgets.from_stop(settings.stop))  # the seed's
            try:
                log(f"seed {seed}: {'resuming' if state == PARTIAL else 'starting'} "
                    f"(budget {budget:.0f} s)")
                search = Search.start(settings, directory, progress=progress, log=log) \
                    if state == NEW else Search.resume(RunStore.open(directory), settings,
                                                       progress=progress, log=log)
                reason = search.run(actors=actors)
            finally:
                progress.close()
            search.store.close()
            if reason == "interrupted":
                return 130
            log(f"seed {seed}: stopped ({reason}) after {search.elapsed():.0f} s")
        result = describe_seed(out, seed, budget, asked["simplify_suite"], log)
        write_atomically(directory / RESULT, json.dumps(result, indent=2) + "\n")
        print_table(_summary(out, asked))
    return 0


def _seeds_text(asked: dict) -> str:
    """``5 seed(s)``, or ``3 seed(s) (2..4)`` when the experiment does not start at 0.

    >>> _seeds_text({"seeds": 5}), _seeds_text({"seeds": 3, "first_seed": 2})
    ('5 seed(s)', '3 seed(s) (2..4)')
    """
    from ..rediscover import seed_range

    seeds = seed_range(asked)
    span = f" ({seeds[0]}..{seeds[-1]})" if seeds[0] else ""
    return f"{len(seeds)} seed(s){span}"


def _summary(out: Path, asked: dict) -> dict:
    """The summary of the experiment's seeds as they stand now, with the budget."""
    from ..rediscover import seed_range, seed_row, summarize

    summary = summarize([seed_row(out, s, asked["budget_s"]) for s in seed_range(asked)])
    summary["budget_s"] = asked["budget_s"]
    return summary


COLUMNS = ("seed", "outcome", "time to Lion", "evaluations", "b1", "b2", "decay",
           "simplified")


def table_rows(summary: dict) -> list[list[str]]:
    """One row of text cells per seed (see :data:`COLUMNS`).

    >>> rows = table_rows({"runs": [{"seed": 0, "found": False, "elapsed_s": 60.0,
    ...                              "evaluations": 12, "best_fitness": 0.1},
    ...                             {"seed": 1, "found": False, "pending": True}]})
    >>> rows[0][:4], rows[1][:3]
    (['0', 'not found (best +0.1000)', '> 60 s', '12'], ['1', 'not started', '-'])
    """
    rows = []
    for run in summary["runs"]:
        simplified = run.get("simplified", {})
        if run.get("found"):
            outcome = (run.get("kind") or "Lion-family") + judged_text(run)
            time_text = f"{run['time_to_lion_s']:.0f} s"
            evaluations = str(run.get("evaluations_to_lion", "-"))
        elif run.get("pending") and "elapsed_s" not in run:
            outcome, time_text, evaluations = "not started", "-", "-"
        else:
            best = run.get("best_fitness")
            outcome = ("running" if run.get("pending") else "not found") + (
                f" (best {best:+.4f})" if best is not None else "")
            time_text = f"> {run.get('elapsed_s', 0):.0f} s"
            evaluations = str(run.get("evaluations", "-"))
        rows.append([str(run["seed"]), outcome, time_text, evaluations,
                     _number(run.get("b1")), _number(run.get("b2")),
                     _number(run.get("weight_decay")), simplified.get("kind", "-")])
    return rows


def judged_text(run: dict) -> str:
    """How the search judged the Lion-family program it found: turned away at the
    hurdle, or its fitness against its parent's.

    >>> judged_text({"stopped_at_hurdle": True})
    ', stopped at the hurdle'
    >>> judged_text({"fitness": 0.2, "parent_fitness": 0.12, "fitness_seeds": 12})
    ' (+0.2000 on 12 seeds; parent +0.1200)'
    >>> judged_text({})
    ''
    """
    if run.get("stopped_at_hurdle"):
        return ", stopped at the hurdle"
    if run.get("fitness") is None or run.get("parent_fitness") is None:
        return ""
    seeds = f" on {run['fitness_seeds']} seeds" if run.get("fitness_seeds") else ""
    return f" ({run['fitness']:+.4f}{seeds}; parent {run['parent_fitness']:+.4f})"


def overall_line(summary: dict) -> str:
    """``found k of N (rate), median time-to-Lion ...``."""
    median = summary.get("median_time_to_lion_s")
    evaluations = summary.get("median_evaluations_to_lion")
    median_text = "-" if median is None else f"{median:.0f} s"
    if median is None and summary.get("budget_s"):
        median_text = f"> {summary['budget_s']:.0f} s (fewer than half found Lion)"
    return (f"found {summary['found']} of {summary['seeds']} (rate {summary['rate']:.0%}); "
            f"median time-to-Lion {median_text}"
            + ("" if evaluations is None else f", median evaluations {evaluations:.0f}"))


def print_table(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="rediscovery")
    for column in COLUMNS:
        table.add_column(column)
    for row in table_rows(summary):
        table.add_row(*row)
    console = Console(file=sys.stdout, width=max(100, Console().width))
    console.print(table)
    console.print(overall_line(summary))
    sys.stdout.flush()


def markdown_table(summary: dict) -> str:
    """The table and the overall line as markdown (``OUT/summary.md``)."""
    lines = markdown.markdown_table(COLUMNS, table_rows(summary))
    lines += ["", overall_line(summary)]
    for run in summary["runs"]:
        if run.get("found") and "simplified" in run:
            lines += ["", f"seed {run['seed']}: program {run['program']} "
                          f"({run.get('kind')}), simplified ({run['simplified']['kind']}):",
                      "```python", run["simplified"]["source"].rstrip(), "```"]
        elif not run.get("found") and "simplified" in run.get("best", {}):
            best = run["best"]
            lines += ["", f"seed {run['seed']}: no Lion; its best, program {best['program']} "
                          f"(fitness {best['fitness']:+.4f}), simplified:",
                      "```python", best["simplified"].rstrip(), "```"]
    return "\n".join(lines)


def _number(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.4g}"
