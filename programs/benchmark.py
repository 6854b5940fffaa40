"""Benchmark of the program layer: children and fingerprints per second on one core.

The pool is random valid programs of about 15 statements (the size the issue names).
Children are made by :class:`programs.mutation.Mutator` (abstract execution included,
as the search pays it); fingerprints by :func:`programs.funcsim.fingerprint`. Both are
timed in the same run, interleaved over several rounds, and the median round is kept.

Example:
    $ lion-search bench programs --json
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import time

from .funcsim import fingerprint
from .generate import random_program
from .mutation import Mutator

TARGET_CHILDREN_PER_S = 5000
TARGET_FINGERPRINTS_PER_S = 2000


def _pin_to_one_core() -> str:
    try:
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cores[-1]})
        return f"pinned to core {cores[-1]}"
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity)"


def run_benchmark(quick: bool = False, length: int = 15, seed: int = 0) -> dict:
    """Measure; returns a JSON-ready dict of throughputs, targets and the machine."""
    pinning = _pin_to_one_core()
    rng = random.Random(seed)
    pool = [random_program(rng, length) for _ in range(50 if quick else 200)]
    mutator = Mutator()
    rounds = 3 if quick else 7
    children_rates, fingerprint_rates = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for parent in pool:
            for _ in range(5):
                mutator(parent, rng)
        children_rates.append(5 * len(pool) / (time.perf_counter() - start))
        start = time.perf_counter()
        for program in pool:
            fingerprint(program)
        fingerprint_rates.append(len(pool) / (time.perf_counter() - start))
    children = statistics.median(children_rates)
    fingerprints = statistics.median(fingerprint_rates)
    return {
        "children_per_s": round(children, 1),
        "fingerprints_per_s": round(fingerprints, 1),
        "children_vs_target": round(children / TARGET_CHILDREN_PER_S, 2),
        "fingerprints_vs_target": round(fingerprints / TARGET_FINGERPRINTS_PER_S, 2),
        "program_length": length,
        "pool": len(pool),
        "rounds": rounds,
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "pinning": pinning},
    }
