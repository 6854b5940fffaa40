"""A rediscovery experiment: N independent searches, each until its first Lion-family
program or its time budget, and what each found.

The experiment lives in one directory::

    OUT/rediscover.json      what was asked: the config (as data), seeds, budget
    OUT/seed-K/              seed K's run store (an ordinary run: `top`, `show`, ...)
    OUT/seed-K/result.json   seed K's outcome, once its search has stopped
    OUT/summary.json         the rate and the median time-to-Lion over all seeds

Seeds run one after another, each with every evaluator actor (so "1 hour" is an hour of
the whole machine), sharing the actors (compiled once). Everything is derived from the
run stores, so a killed experiment resumes where it was (:func:`seed_state`): a seed
whose search had not stopped resumes its search, one that had stopped but has no result
is described again, one with a result is done (its run store may be gone: a seed's
``result.json`` alone stands for it, so an experiment can be split across machines or
its stores removed once described). A larger budget on resume lets seeds that
stopped at the time limit go on.

A seed's outcome (:func:`describe_seed`) gives the wall time and evaluations to its first
Lion-family program (:mod:`programs.lion_core`), that program, its simplified form and
the fitted b1, b2 and weight decay, and how the search judged it: its fitness (over
how many seeds), its parent's, and whether the hurdle turned it away (a program found
but stopped there was generated, not selected). Simplification is the exact one first
(:mod:`programs.simplify`); when that does not end at Lion itself, the measured steps
(:mod:`evaluators.measured_simplification`, on ``simplify_suite``) try to strip what the
search grew around the Lion core.

Example:
    >>> summary = summarize([
    ...     {"seed": 0, "found": True, "time_to_lion_s": 30.0, "evaluations_to_lion": 40},
    ...     {"seed": 1, "found": False},
    ...     {"seed": 2, "found": True, "time_to_lion_s": 50.0, "evaluations_to_lion": 90}])
    >>> summary["rate"], summary["median_time_to_lion_s"], summary["median_evaluations_to_lion"]
    (0.6666666666666666, 50.0, 90)
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

from .config import SearchConfig, as_it_ran, config_to_dict
from .store import RunStore, StoreError, check_makeable

MANIFEST, SUMMARY, RESULT = "rediscover.json", "summary.json", "result.json"
DONE, STOPPED, PARTIAL, NEW = "done", "stopped", "partial", "new"


class RediscoverError(ValueError):
    """An experiment directory that cannot be started or resumed; one line."""


def seed_config(config: SearchConfig, seed: int, budget_s: float) -> SearchConfig:
    """``config`` for seed ``seed``: its own RNG seed, stopping at the first Lion-family
    program or after ``budget_s`` seconds."""
    stop = dataclasses.replace(config.stop, time_limit_s=float(budget_s), at_first_lion=True)
    return dataclasses.replace(config, seed=seed, stop=stop)


def seed_directory(out: Path, seed: int) -> Path:
    return Path(out) / f"seed-{seed}"


def manifest(config: SearchConfig, config_file: str, seeds: int, budget_s: float,
             simplify_suite: str, first_seed: int = 0) -> dict:
    """What ``OUT/rediscover.json`` holds (seeds ``first_seed .. first_seed + seeds - 1``)."""
    return {"config_file": str(config_file), "config": config_to_dict(config),
            "seeds": seeds, "first_seed": first_seed, "budget_s": budget_s,
            "simplify_suite": simplify_suite}


def seed_range(asked: dict) -> range:
    """The seeds an experiment runs: ``first_seed .. first_seed + seeds - 1`` (a manifest
    written before ``--first-seed`` starts at 0).

    >>> seed_range({"seeds": 3, "first_seed": 2}), seed_range({"seeds": 2})
    (range(2, 5), range(0, 2))
    """
    first = asked.get("first_seed", 0)
    return range(first, first + asked["seeds"])


def check_resumable(stored: dict, given: dict, operational: set[str]) -> None:
    """Refuse to resume an experiment with a config that searches differently, or from
    another first seed (its summary would leave out the seeds it ran)."""
    first, asked = stored.get("first_seed", 0), given.get("first_seed", 0)
    if first != asked:
        raise RediscoverError(f"the experiment's seeds start at {first}, not {asked}; "
                              f"resume with --first-seed {first}")
    old, new = as_it_ran(stored["config"]), given["config"]
    for key in sorted(set(old) | set(new)):
        if key not in operational | {"seed"} and old.get(key) != new.get(key):
            raise RediscoverError(f"the config's '{key}' differs from the experiment's "
                                  f"({new.get(key)!r} vs {old.get(key)!r}); resume with "
                                  f"the experiment's config ({stored['config_file']})")


def read_manifest(out: Path) -> dict:
    path = Path(out) / MANIFEST
    if not path.exists():
        raise RediscoverError(f"{out}: not a rediscovery experiment (no {MANIFEST})")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise RediscoverError(f"{path}: unreadable ({err})") from None


def check_new(out: Path) -> None:
    out = Path(out)
    try:
        check_makeable(out)
    except StoreError as err:
        raise RediscoverError(str(err)) from None
    if (out / MANIFEST).exists():
        raise RediscoverError(f"{out}: already holds a rediscovery experiment; use --resume "
                              "to continue it or choose another --out")
    if out.exists() and any(out.iterdir()):
        raise RediscoverError(f"{out}: exists and is not empty; choose another --out")


def seed_state(out: Path, seed: int, budget_s: float) -> str:
    """Where seed ``seed`` stands: :data:`NEW`, :data:`PARTIAL` (its search goes on),
    :data:`STOPPED` (to be described) or :data:`DONE`."""
    directory = seed_directory(out, seed)
    if not (directory / "run.sqlite").exists():
        return DONE if _result_stands(directory, budget_s) else NEW
    try:
        store = RunStore.open_readonly(directory)
    except StoreError:
        return NEW if not any(directory.iterdir()) else PARTIAL
    try:
        stopped = store.get_meta("stopped") or ""
        elapsed = float(store.get_meta("elapsed", "0"))
        found = store.get_meta("first_lion") is not None
    finally:
        store.close()
    if not stopped or (stopped == "time limit" and not found and elapsed < budget_s):
        return PARTIAL
    return DONE if _result_stands(directory, budget_s, found) else STOPPED


def _result_stands(directory: Path, budget_s: float, found: bool | None = None) -> bool:
    """Whether the seed's ``result.json`` in ``directory`` stands for it: one that is
    readable and found Lion or had this budget. ``found`` is what the seed's run store
    says (None: no store, the result's word is taken); a result that disagrees with it
    predates the end of the search (a seed that found Lion after a resume with a larger
    budget, killed before it was described again) and does not stand."""
    try:
        result = json.loads((directory / RESULT).read_text())
    except (OSError, ValueError):
        return False
    result_found = bool(result.get("found"))
    if found is not None and found != result_found:
        return False
    return result_found or result.get("budget_s") == budget_s


def describe_seed(out: Path, seed: int, budget_s: float, simplify_suite: str | None,
                  log=print) -> dict:
    """Seed ``seed``'s outcome from its run store (see the module docstring)."""
    from evaluators.suite import STOPPED_AT_HURDLE
    from programs.lion_core import lion_family
    from programs.parser import parse
    from programs.printer import to_source

    directory = seed_directory(out, seed)
    store = RunStore.open_readonly(directory)
    try:
        counts = store.counts()
        first = store.get_meta("first_lion")
        first = json.loads(first) if first else None
        result = {"seed": seed, "dir": str(directory), "budget_s": budget_s,
                  "found": first is not None, "stopped": store.get_meta("stopped") or None,
                  "elapsed_s": round(float(store.get_meta("elapsed", "0")), 1),
                  "programs": counts["programs"], "evaluations": counts["evaluations"],
                  "best_fitness": counts["best_fitness"]}
        top = store.top_programs(1)
        if top:
            result["best"] = {"program": top[0]["program"], "fitness": top[0]["fitness"],
                              "source": store.program(top[0]["program"])["source"]}
        if first is None:
            if top:
                from programs.simplify import simplify

                best = simplify(parse(result["best"]["source"])).program
                result["best"]["simplified"] = to_source(best)
            return result
        row = store.program(first["program"])
        centres = store.multipliers(first["program"])
        evaluation = store.evaluation(row["fingerprint"]) or {}
        parent = store.program(row["parent"]) if row["parent"] is not None else None
    finally:
        store.close()
    program = parse(row["source"])
    family = lion_family(program)
    result.update(program=first["program"], fitness=row["fitness"], source=row["source"],
                  time_to_lion_s=first["elapsed_s"], evaluations_to_lion=first["evaluations"],
                  programs_to_lion=first["programs"], kind=family.kind if family else None,
                  b1=family.b1 if family else None, b2=family.b2 if family else None,
                  weight_decay=family.weight_decay if family else None,
                  extras=list(family.extras) if family else [],
                  fitness_seeds=evaluation.get("seeds"),
                  parent_fitness=parent["fitness"] if parent else None,
                  stopped_at_hurdle=(evaluation.get("reason") or "").startswith(
                      STOPPED_AT_HURDLE))
    simplified, evaluations = simplify_found(program, simplify_suite, centres, log)
    found_family = lion_family(simplified)
    result["simplified"] = {
        "source": to_source(simplified), "measured_evaluations": evaluations,
        "kind": found_family.kind if found_family else "not Lion-family",
        **({"b1": found_family.b1, "b2": found_family.b2,
            "weight_decay": found_family.weight_decay, "extras": list(found_family.extras)}
           if found_family else {})}
    if found_family is not None and found_family.kind == "Lion":
        result.update(b1=found_family.b1, b2=found_family.b2,
                      weight_decay=found_family.weight_decay)
    return result


def simplify_found(program, simplify_suite: str | None, centres: dict | None, log=print):
    """``(simplified program, measured evaluations)``: the exact steps, then (unless that
    is Lion already, or ``simplify_suite`` is None) the measured ones on that suite."""
    from programs.lion_core import LION, lion_family
    from programs.simplify import simplify

    exact = simplify(program).program
    family = lion_family(exact)
    if simplify_suite is None or (family is not None and family.kind == LION):
        return exact, 0
    from evaluators.measured_simplification import MeasuredSimplifier
    from evaluators.suite import EvaluatorConfig

    log(f"measured simplification on {simplify_suite} (strips what surrounds the Lion core)")
    measure = MeasuredSimplifier(EvaluatorConfig(suite=simplify_suite, seeds=(0,)),
                                 centres=centres)
    return simplify(program, measure=measure).program, measure.evaluations


def summarize(results: list[dict]) -> dict:
    """The rate and median time-to-Lion over ``results`` (unfound seeds count as never:
    the median is None when fewer than half the seeds found Lion)."""
    found = [r for r in results if r.get("found")]
    times = sorted(r["time_to_lion_s"] if r.get("found") else math.inf for r in results)
    median = _median(times)
    median_evaluations = _median(sorted(r["evaluations_to_lion"] if r.get("found")
                                        else math.inf for r in results))
    return {"seeds": len(results), "found": len(found),
            "rate": len(found) / len(results) if results else 0.0,
            "median_time_to_lion_s": median if math.isfinite(median or math.inf) else None,
            "median_evaluations_to_lion": median_evaluations
            if math.isfinite(median_evaluations or math.inf) else None,
            "runs": results}


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    low, high = values[middle - 1], values[middle]
    return (low + high) / 2 if math.isfinite(high) else math.inf


def seed_row(out: Path, seed: int, budget_s: float) -> dict:
    """What is known of seed ``seed`` now: its result once described, else its counters."""
    directory = seed_directory(out, seed)
    if (directory / RESULT).exists():
        return json.loads((directory / RESULT).read_text())
    row = {"seed": seed, "found": False, "pending": True}
    try:
        store = RunStore.open_readonly(directory)
    except StoreError:
        return row
    try:
        first = store.get_meta("first_lion")
        row.update(elapsed_s=round(float(store.get_meta("elapsed", "0")), 1),
                   evaluations=store.evaluation_count(),
                   best_fitness=store.counts()["best_fitness"])
        if first:
            first = json.loads(first)
            row.update(found=True, time_to_lion_s=first["elapsed_s"],
                       evaluations_to_lion=first["evaluations"])
    finally:
        store.close()
    return row
