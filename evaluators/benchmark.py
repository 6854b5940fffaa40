"""``lion-search bench eval``: the interpreter against compiling per program, side by side.

Three contenders train the same programs on the same suite and seeds, in one run:

* **interpreter**: :class:`~evaluators.suite.SuiteEvaluator`, compiled once (the compile
  is paid before timing: a search pays it once per job);
* **compiled**: :func:`~evaluators.reference.compiled_losses`, compile included, as a
  search that compiled each program would pay it;
* **hand-written**: the AdamW warm start written directly in jax over the parameter
  pytree, compiled once, in the same training loop (the floor for any program).

Beside them, ``tuned`` times the search's own evaluation, each program at its best step
multiplier per task (:mod:`evaluators.step_size`), against the plain one (multiplier 1)
on the same programs in the same run: programs per second of both, their ratio, and the
plain evaluations a tuned one costs.

The programs are children of the AdamW warm start after a few mutations (what a search
evaluates). Interpreter and hand-written runs alternate over rounds; medians are kept.
Each task is timed on its own as well (``per_task``): the speedup a suite can reach is
bounded by ``speedup_ceiling``, the compile cost over the hand-written run, which is a
property of the tasks and the machine, not of the interpreter. The losses of the three
contenders are compared too (``agree``): they must train the same thing.

Example:
    $ lion-search bench eval --json
    $ lion-search bench eval --suite gpu --device gpu --batch-size 32   # on a GPU
"""

from __future__ import annotations

import dataclasses
import os
import platform
import random
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from programs.mutation import Mutator
from programs.ops import EPS
from programs.seed_programs import load_seed

from . import compile_cache
from .reference import compiled_losses
from .suite import (EvaluatorConfig, SuiteEvaluator, evaluation_device, suite_tasks,
                    task_label)
from .training import final_val_loss

TARGET_SPEEDUP = 30.0
TARGET_OVERHEAD = 2.0


def searched_programs(count: int, seed: int = 0, mutations: int = 4):
    """``count`` children of AdamW, each ``mutations`` mutations away, all finite-length."""
    rng, mutator, programs = random.Random(seed), Mutator(), []
    while len(programs) < count:
        program = load_seed("adamw")
        for _ in range(mutations):
            program, _ = mutator(program, rng)
        programs.append(program)
    return programs


def handwritten_adamw():
    """The warm start (``programs/seeds/adamw.py``) as plain jax over the parameter pytree,
    op for op in float32 as the program computes it (so its losses match the
    interpreter's): ``interp(x, y, a) = (1 - a) x + a y`` and the program language's safe
    division (``m / (sqrt(v) + 1e-30)``, as ``sqrt(v) >= 0``)."""
    b1, b2 = jnp.float32(0.9), jnp.float32(0.999)

    def init_state_fn(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return zeros, zeros

    def update_fn(grads, state, params, lr):
        m, v = state
        m = jax.tree.map(lambda g, m: (1 - b1) * g + b1 * m, grads, m)
        v = jax.tree.map(lambda g, v: (1 - b2) * (g * g) + b2 * v, grads, v)
        step = lr * jnp.float32(0.001)
        updates = jax.tree.map(
            lambda m, v, w: (m / (jnp.sqrt(v) + EPS) + w * jnp.float32(0.01)) * step,
            m, v, params)
        return updates, (m, v)

    return update_fn, init_state_fn


def _handwritten_run(task):
    """The hand-written AdamW loop on ``task`` over a vector of seeds, jitted."""
    update_fn, init_state_fn = handwritten_adamw()
    return jax.jit(jax.vmap(lambda seed: final_val_loss(task, update_fn, init_state_fn, seed)))


def _seconds(fn) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def run_benchmark(quick: bool = False, suite: str = "cpu", seeds=(0, 1),
                  batch_size: int | None = None, device: str | None = None,
                  program_axis: str | None = None) -> dict:
    """Measure; a JSON-ready dict with the three figures, the targets and the machine.

    ``batch_size`` programs are evaluated per round (default 4 on CPU, 32 on an
    accelerator, where programs run vmapped); ``device`` and ``program_axis`` are the
    :class:`EvaluatorConfig` fields.
    """
    compile_cache.disable()  # compilation is what it times: never read it from disk
    target = evaluation_device(device)
    # The references train in plain coordinates, reading the schedule; so does the
    # interpreter here, so that all three train the same thing (the sign flips and
    # gradient scales cost two elementwise products per step).
    config = EvaluatorConfig(suite=suite, seeds=tuple(seeds), device=device,
                             program_axis=program_axis, step_size="fixed",
                             batch_size=batch_size or (4 if target.platform == "cpu" else 32),
                             sign_flips=False, schedule_input=True, scale_gradients=False)
    # One evaluator per task: each task is timed on its own, the suite is their sum.
    evaluators = {task_label(task.name, task.size):
                  SuiteEvaluator(dataclasses.replace(config, suite=(task,)))
                  for task in suite_tasks(suite)}
    with jax.default_device(target):
        return _measure(evaluators, config, rounds=2 if quick else 3,
                        compiled_count=1 if quick else 2)


def _measure(evaluators: dict, config, rounds: int, compiled_count: int) -> dict:
    programs = searched_programs(config.batch_size)
    first = next(iter(evaluators.values()))
    seeds = jax.device_put(jnp.asarray(config.seeds, jnp.int32), first.device)
    tasks = {label: evaluator.tasks[label] for label, evaluator in evaluators.items()}
    handwritten = {label: _handwritten_run(task) for label, task in tasks.items()}
    # The first calls compile; their results say whether the contenders agree.
    interpreter_losses = {label: evaluator.task_losses(programs)[0][label]
                          for label, evaluator in evaluators.items()}
    handwritten_losses = {label: np.asarray(run(seeds)) for label, run in handwritten.items()}

    times = {label: {"interpreter": [], "handwritten_adamw": [], "compiled_with_compile": []}
             for label in tasks}
    for _ in range(rounds):  # interpreter and hand-written alternate, task by task
        for label, evaluator in evaluators.items():
            times[label]["interpreter"].append(
                _seconds(lambda: evaluator.task_losses(programs)) / len(programs))
            times[label]["handwritten_adamw"].append(
                _seconds(lambda: handwritten[label](seeds).block_until_ready()))
    compiled_losses_seen = []
    for program in programs[:compiled_count]:
        losses = {}
        for label, task in tasks.items():
            began = time.perf_counter()
            losses[label] = compiled_losses(task, program, config.seeds)
            times[label]["compiled_with_compile"].append(time.perf_counter() - began)
        compiled_losses_seen.append(losses)

    tuned = _tuned_figures(config, programs, rounds)
    # The suite's seconds in each round (or per compiled program): its tasks' sum.
    suite_times = {kind: [sum(per_round) for per_round in zip(
                       *(task_times[kind] for task_times in times.values()))]
                   for kind in ("interpreter", "handwritten_adamw", "compiled_with_compile")}
    return {
        **_figures(suite_times),
        "per_task": {label: _figures(task_times) for label, task_times in times.items()},
        "tuned": tuned,
        "agree": _losses_agree(interpreter_losses, compiled_losses_seen, handwritten_losses,
                               evaluators),
        "targets": {"speedup_vs_compiled": TARGET_SPEEDUP,
                    "overhead_vs_handwritten": TARGET_OVERHEAD},
        "suite": list(tasks), "seeds": list(config.seeds),
        "batch_size": config.batch_size, "program_axis": first.program_axis,
        "rounds": rounds, "programs_compiled": compiled_count,
        "compilations": sum(evaluator.compilations for evaluator in evaluators.values()),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "device": str(first.device), "jax": jax.__version__,
                    "numpy": np.__version__},
    }


def _tuned_figures(config, programs, rounds: int) -> dict:
    """The search's evaluation, each program at its best multiplier per task, against
    the plain one (multiplier 1), on the same programs, alternating, in one run."""
    tuned = SuiteEvaluator(dataclasses.replace(config, step_size="tuned"))
    plain = SuiteEvaluator(config)
    tuned.evaluate(programs[:1])  # compiles, and tunes the reference
    plain.evaluate(programs[:1])
    tuned_times, plain_times, runs = [], [], []
    for _ in range(rounds):
        began = time.perf_counter()
        results = tuned.evaluate(programs)
        tuned_times.append((time.perf_counter() - began) / len(programs))
        plain_times.append(_seconds(lambda: plain.evaluate(programs)) / len(programs))
        runs.append(statistics.mean(result.runs for result in results))
    tuned_s, plain_s = statistics.median(tuned_times), statistics.median(plain_times)
    return {"programs_per_s": round(1.0 / tuned_s, 3),
            "plain_programs_per_s": round(1.0 / plain_s, 3),
            "seconds_vs_plain": round(tuned_s / plain_s, 2),
            "plain_evaluations_per_program": round(statistics.mean(runs), 2),
            "tune_seeds": tuned.config.tune_seeds}


def _figures(times: dict) -> dict:
    """The three figures and the ceiling from lists of seconds per program (medians)."""
    interpreter, hand, compiled = (statistics.median(times[kind]) for kind in (
        "interpreter", "handwritten_adamw", "compiled_with_compile"))
    return {"programs_per_s": round(1.0 / interpreter, 3),
            "speedup_vs_compiled": round(compiled / interpreter, 2),
            # The most any interpreter could reach: compiling costs this many
            # hand-written runs.
            "speedup_ceiling": round(compiled / hand, 2),
            "overhead_vs_handwritten": round(interpreter / hand, 3),
            "seconds_per_program": {"interpreter": round(interpreter, 4),
                                    "compiled_with_compile": round(compiled, 3),
                                    "handwritten_adamw": round(hand, 4)}}


def _losses_agree(interpreter: dict, compiled: list, handwritten: dict,
                  evaluators: dict) -> dict:
    """Did the contenders train the same thing? Interpreter == compiled per program, and
    the interpreter's AdamW warm start == the hand-written AdamW (relative 1e-4)."""
    def close(a, b):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        both_nan = np.isnan(a) & np.isnan(b)
        return bool(np.all(both_nan | np.isclose(a, b, rtol=1e-4, atol=0.0)))

    return {
        "interpreter_vs_compiled": all(close(interpreter[label][row], losses[label])
                                       for row, losses in enumerate(compiled)
                                       for label in losses),
        "interpreter_adamw_vs_handwritten": all(
            close(evaluators[label].reference_losses()[label], handwritten[label])
            for label in handwritten),
    }
