"""``lion-search bench eval``: the interpreter against compiling per program, side by side.

Three contenders train the same programs on the same suite and seeds, in one run:

* **interpreter**: :class:`~evaluators.suite.SuiteEvaluator`, compiled once (the compile
  is paid before timing: a search pays it once per job);
* **compiled**: :func:`~evaluators.reference.compiled_losses`, compile included, as a
  search that compiled each program would pay it;
* **hand-written**: the AdamW warm start written directly in jax over the parameter
  pytree, compiled once, in the same training loop (the floor for any program).

The programs are children of the AdamW warm start after a few mutations (what a search
evaluates). Interpreter and hand-written runs alternate over rounds; medians are kept.

Example:
    $ lion-search bench eval --json
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from programs.mutation import Mutator
from programs.seed_programs import load_seed

from .reference import compiled_losses
from .suite import EvaluatorConfig, SuiteEvaluator
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
    """The warm start (lr 1e-3 x schedule, wd 0.01, no bias correction) as plain jax."""

    def init_state_fn(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return zeros, zeros

    def update_fn(grads, state, params, lr):
        m, v = state
        m = jax.tree.map(lambda g, m: 0.1 * g + 0.9 * m, grads, m)
        v = jax.tree.map(lambda g, v: 0.001 * g * g + 0.999 * v, grads, v)
        updates = jax.tree.map(
            lambda m, v, w: (m / (jnp.sqrt(v) + 1e-8) + 0.01 * w) * (lr * 0.001), m, v, params)
        return updates, (m, v)

    return update_fn, init_state_fn


def run_benchmark(quick: bool = False, suite: str = "cpu", seeds=(0, 1)) -> dict:
    """Measure; a JSON-ready dict with the three figures, the targets and the machine."""
    batch_size = 4
    rounds = 2 if quick else 3
    compiled_count = 1 if quick else 2
    programs = searched_programs(batch_size)
    evaluator = SuiteEvaluator(EvaluatorConfig(suite=suite, seeds=tuple(seeds),
                                               batch_size=batch_size))
    evaluator.task_losses(programs)  # compile
    update_fn, init_state_fn = handwritten_adamw()
    seed_array = jnp.asarray(seeds, jnp.int32)
    handwritten = {
        label: jax.jit(jax.vmap(lambda s, task=task: final_val_loss(
            task, update_fn, init_state_fn, s)))
        for label, task in evaluator.tasks.items()}
    for run in handwritten.values():
        run(seed_array).block_until_ready()  # compile

    interpreter_times, handwritten_times = [], []
    for _ in range(rounds):
        began = time.perf_counter()
        evaluator.task_losses(programs)
        interpreter_times.append((time.perf_counter() - began) / len(programs))
        began = time.perf_counter()
        for run in handwritten.values():
            run(seed_array).block_until_ready()
        handwritten_times.append(time.perf_counter() - began)
    compiled_times = []
    for program in programs[:compiled_count]:
        began = time.perf_counter()
        for task in evaluator.tasks.values():
            compiled_losses(task, program, seeds)
        compiled_times.append(time.perf_counter() - began)

    per_program = statistics.median(interpreter_times)
    return {
        "programs_per_s": round(1.0 / per_program, 3),
        "speedup_vs_compiled": round(statistics.median(compiled_times) / per_program, 2),
        # The most any interpreter could reach: compiling costs this many hand-written runs.
        "speedup_ceiling": round(statistics.median(compiled_times) /
                                 statistics.median(handwritten_times), 2),
        "overhead_vs_handwritten": round(per_program / statistics.median(handwritten_times), 3),
        "seconds_per_program": {"interpreter": round(per_program, 4),
                                "compiled_with_compile": round(statistics.median(compiled_times), 3),
                                "handwritten_adamw": round(statistics.median(handwritten_times), 4)},
        "targets": {"speedup_vs_compiled": TARGET_SPEEDUP,
                    "overhead_vs_handwritten": TARGET_OVERHEAD},
        "suite": list(evaluator.tasks), "seeds": list(seeds), "batch_size": batch_size,
        "program_axis": evaluator.program_axis, "rounds": rounds,
        "programs_compiled": compiled_count, "compilations": evaluator.compilations,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "device": str(evaluator.device), "jax": jax.__version__,
                    "numpy": np.__version__},
    }
