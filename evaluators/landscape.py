"""``lion-search bench landscape``: is Lion the summit of the fitness, and can evolution
walk to it?

A fixed panel of programs (``programs/panel/`` and the seeds ``adamw`` and ``lion``; each
file's docstring says where it came from) is scored by the tuned fitness on paired seeds: the AdamW warm start, signum at
0.9 and 0.99, Lion, Lion and Adam without the schedule, the hacks earlier searches
found, and the programs on the path evolution can walk from AdamW to Lion through
neutral moves. The bench reports, per program, the fitness, the fitness per task, the
difference from Lion with its paired standard error (per-seed fitnesses, same seeds),
the rank, and the multiplier found per task; then the path's fitnesses and its worst
drop. ``lion_rank`` is plain Lion's rank among the programs without the Lion core plus
Lion itself (1: ahead of all of them).

Whenever a search finds a winner that is not Lion, it joins the panel: add its file to
``programs/panel/`` and a :class:`PanelEntry` here.

Example:
    $ lion-search bench landscape --suite cpu --seeds 8 --json
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from programs.parser import parse_file
from programs.seed_programs import seed_path

from .paired import paired
from .suite import EvaluatorConfig, SuiteEvaluator

PANEL_DIR = Path(__file__).resolve().parent.parent / "programs" / "panel"


class PanelEntry(NamedTuple):
    """One program of the panel.

    Attributes:
        name: the file's stem in ``programs/panel/``.
        lion_core: whether the update is the sign of an interpolation of the gradient
            and a slow EMA of it (Lion, or Lion with extras around that core).
        path: its place on the path from AdamW to Lion (0 = AdamW), or None.
    """

    name: str
    lion_core: bool
    path: int | None = None


PANEL = (
    PanelEntry("adamw", False, 0),
    PanelEntry("path_1_square_m", False, 1),
    PanelEntry("path_2_sign_step", False, 2),
    PanelEntry("path_3_dead_ema", False, 3),
    PanelEntry("path_4_dead_ema_0.99", False, 4),
    PanelEntry("path_5_lion", True, 5),
    PanelEntry("lion", True),
    PanelEntry("lion_no_schedule", True),
    PanelEntry("lion_winner_multiplier", True),
    PanelEntry("signum_0.9", False),
    PanelEntry("signum_0.99", False),
    PanelEntry("signum_0.66", False),
    PanelEntry("adam_no_schedule", False),
    PanelEntry("quickstart_winner", False),
    PanelEntry("quickstart_v2_winner", False),
    PanelEntry("rung2_drift_winner", False),
    PanelEntry("rung1_signum_plus_g", False),
    PanelEntry("rung1_signum_small_g", False),
    PanelEntry("rung1_sign_m_plus_sign_g", False),
    PanelEntry("rung1_sin_ema_0.78", False),
    PanelEntry("signum_0.5", False),
    PanelEntry("signum_0.8", False),
    PanelEntry("cautious_signum_0.92", False),
    PanelEntry("cautious_lion", False),
    PanelEntry("rung1_sign_m_plus_arcsin_cbrt_g", False),
    PanelEntry("rung1_sign_m_plus_tanh_g", False),
    PanelEntry("rung1_signum_minus_stale_sign", False),
    PanelEntry("rung3_adam_fast_v_plus_arcsin_cbrt_g", False),
    PanelEntry("rung3_adam_fast_v_plus_tanh_inv_g", False),
    PanelEntry("rung3_adam_fast_v_plus_sign_g", False),
    PanelEntry("rung3_momentum_rms_plus_tanh_g", False),
    PanelEntry("rung3_adam_fast_v_plus_cbrt_g", False),
    PanelEntry("islands_adam_plus_arcsinh_g", False),
    PanelEntry("islands_adam_clipped_below", False),
    PanelEntry("islands_adam_arctan_momentum_plus_g", False),
)
LION = "lion"


def panel_programs(entries=PANEL) -> dict:
    """``{name: Program}`` of the panel's files (``programs/panel/``, or a seed program of
    ``programs/seeds/``: the AdamW warm start and Lion are those)."""
    return {entry.name: parse_file(panel_path(entry.name)) for entry in entries}


def panel_path(name: str) -> Path:
    """The file of panel program ``name``."""
    path = PANEL_DIR / f"{name}.py"
    return path if path.exists() else seed_path(name)


def seed_fitness(losses: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-seed fitness ``ln(mean reference loss / loss on that seed)`` (NaN where the
    loss is non-finite); the mean over tasks of these is what the paired SE is of.

    >>> seed_fitness(np.array([1.0, 2.0]), np.array([2.0, 2.0])).round(4).tolist()
    [0.6931, 0.0]
    """
    losses = np.asarray(losses, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(losses) & (losses > 0),
                        np.log(np.mean(reference) / losses), np.nan)


def run_landscape(suite="cpu", seeds: int = 8, tune_seeds: int | None = None,
                  entries=PANEL, batch_size: int = 4, device: str | None = None) -> dict:
    """Score the panel on ``suite`` at tuned step sizes, seeds ``0 .. seeds - 1``.

    ``tune_seeds``: seeds the multiplier search trains on (default: all of them).
    Returns a JSON-ready dict (see the module docstring for the keys).
    """
    began = time.perf_counter()
    config = EvaluatorConfig(suite=suite, seeds=tuple(range(seeds)), batch_size=batch_size,
                             device=device, step_size="tuned", tune_seeds=tune_seeds or seeds)
    evaluator = SuiteEvaluator(config)
    programs = panel_programs(entries)
    _say(f"landscape: tuning the reference on {', '.join(evaluator.tasks)}, {seeds} seeds")
    reference = evaluator.reference_losses()
    losses, multipliers, seconds, runs, _ = evaluator.tuned_losses(
        list(programs.values()), on_round=lambda task, index, rows: _say(
            f"landscape: {task}: round {index}, {rows} runs of {seeds} seeds "
            f"({time.perf_counter() - began:.0f} s)"))
    labels = list(evaluator.tasks)
    rows = {}
    for row, entry in enumerate(entries):
        by_task = {label: seed_fitness(losses[label][row], reference[label])
                   for label in labels}
        per_seed = np.mean(list(by_task.values()), axis=0)
        result = evaluator.evaluate_losses({label: losses[label][row] for label in labels})
        rows[entry.name] = {
            "name": entry.name, "lion_core": entry.lion_core, "path": entry.path,
            "fitness": round(result.fitness, 4),
            "task_fitness": {label: round(v, 4) for label, v in result.task_fitness.items()},
            "multipliers": {label: multipliers[label][row] for label in labels},
            "seconds": round(float(seconds[row]), 2), "runs": round(float(runs[row]), 2),
            "seed_fitness": {label: [None if math.isnan(v) else round(float(v), 5)
                                     for v in values] for label, values in by_task.items()},
            "_per_seed": per_seed,
        }
    lion = rows[LION]["_per_seed"]
    for row in rows.values():
        diff, se, wins = paired(row.pop("_per_seed"), lion)
        row.update(diff_vs_lion=round(diff, 4), se_vs_lion=round(se, 4), wins_vs_lion=wins)
    ranked = sorted(rows.values(), key=lambda r: -r["fitness"])
    for rank, row in enumerate(ranked, 1):
        row["rank"] = rank
    contenders = [r for r in ranked if not r["lion_core"] or r["name"] == LION]
    path = sorted((r for r in rows.values() if r["path"] is not None), key=lambda r: r["path"])
    drops = [b["fitness"] - a["fitness"] for a, b in zip(path, path[1:])]
    non_lion = [r for r in contenders if r["name"] != LION]
    best_other = max(non_lion, key=lambda r: r["fitness"]) if non_lion else None
    return {
        "suite": labels, "seeds": seeds, "tune_seeds": config.tune_seeds,
        "reference_multipliers": evaluator.reference_multipliers,
        "lion_rank": [r["name"] for r in contenders].index(LION) + 1,
        "best_program": ranked[0]["name"],
        "best_has_lion_core": ranked[0]["lion_core"],
        "lion_margin": None if best_other is None else {
            "over": best_other["name"], "diff": round(-best_other["diff_vs_lion"], 4),
            "se": best_other["se_vs_lion"],
            "z": round(-best_other["diff_vs_lion"] / best_other["se_vs_lion"], 2)
            if best_other["se_vs_lion"] else None},
        "path": [r["fitness"] for r in path],
        "path_max_drop": round(min(drops), 4) if drops else 0.0,
        "seconds_per_program": round(float(np.mean(seconds)), 2),
        "runs_per_program": round(float(np.mean(runs)), 2),
        "wall_s": round(time.perf_counter() - began, 1),
        "programs": ranked,
    }


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def format_table(result: dict) -> str:
    """The landscape as a plain-text table (ranked), then the path and the verdict."""
    labels = result["suite"]
    head = (f"{'rank':>4}  {'program':<24} {'core':>4} {'fitness':>8} "
            + " ".join(f"{label:>12}" for label in labels)
            + f" {'vs Lion':>9} {'SE':>7} {'wins':>5}  multipliers")
    lines = [head, "-" * len(head)]
    for row in result["programs"]:
        mult = " ".join(f"{m:.3g}" if m else "-" for m in row["multipliers"].values())
        lines.append(
            f"{row['rank']:>4}  {row['name']:<24} {'yes' if row['lion_core'] else '':>4} "
            f"{row['fitness']:>+8.4f} "
            + " ".join(f"{row['task_fitness'][label]:>+12.4f}" for label in labels)
            + f" {row['diff_vs_lion']:>+9.4f} {row['se_vs_lion']:>7.4f} "
              f"{row['wins_vs_lion']:>2}/{result['seeds']:<2}  {mult}")
    lines.append("")
    lines.append("path AdamW -> Lion: " + " -> ".join(f"{f:+.4f}" for f in result["path"])
                 + f"   (worst step {result['path_max_drop']:+.4f})")
    margin = result["lion_margin"]
    lines.append(f"Lion ranks {result['lion_rank']} among the programs without the Lion core"
                 + (f"; Lion minus the best of them ({margin['over']}): {margin['diff']:+.4f}"
                    f" +- {margin['se']:.4f} (z {margin['z']})" if margin else ""))
    lines.append(f"{result['seconds_per_program']:.2f} s and {result['runs_per_program']:.2f}"
                 f" plain evaluations per program; {result['wall_s']:.0f} s in all")
    return "\n".join(lines)


def run_benchmark(quick: bool = False, suite: str = "cpu", seeds=None, batch_size=None,
                  device: str | None = None, **_) -> dict:
    """The bench entry point (``seeds``: a count; default 8, 4 with ``--quick``)."""
    count = seeds if isinstance(seeds, int) else (len(seeds) if seeds else (4 if quick else 8))
    return run_landscape(suite=suite, seeds=count, batch_size=batch_size or 4, device=device)
