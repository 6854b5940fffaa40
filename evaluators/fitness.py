"""Fitness: how much better than the AdamW warm start a program trains, per task and overall.

Per task, with ``L`` the program's validation loss and ``L_ref`` the AdamW warm start's,
both averaged over the same seeds::

    fitness = (L_ref - L) / L_ref          # 0: as good as AdamW; 0.05: 5% lower loss

floored at :data:`WORST_FITNESS` (-1, a loss twice AdamW's or worse). A non-finite loss
on any seed gets the worst fitness and a recorded reason, never an exception. The
suite's fitness is the mean over its tasks.

Example:
    >>> task_fitness([1.0, 1.2], [1.1, 1.1])
    (0.0, None)
    >>> task_fitness([float("nan"), 1.0], [1.1, 1.1])
    (-1.0, 'non-finite validation loss on 1 of 2 seeds')
    >>> round(suite_fitness([0.1, -0.02]), 6)
    0.04
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

WORST_FITNESS = -1.0


def task_fitness(losses: Sequence[float], reference_losses: Sequence[float]
                 ) -> tuple[float, str | None]:
    """``(fitness, reason)`` of per-seed ``losses`` against the reference's on the same seeds.

    ``reason`` is None for a finite result, else why the fitness is the worst.
    """
    losses = np.asarray(losses, np.float64)
    bad = int(np.sum(~np.isfinite(losses)))
    if bad:
        return WORST_FITNESS, f"non-finite validation loss on {bad} of {losses.size} seeds"
    reference = float(np.mean(reference_losses))
    if not math.isfinite(reference) or reference <= 0:
        raise ValueError(f"the reference loss must be finite and positive, not {reference}")
    fitness = (reference - float(np.mean(losses))) / reference
    return max(fitness, WORST_FITNESS), None


def suite_fitness(task_fitnesses: Sequence[float]) -> float:
    """The suite's fitness: the mean of its tasks' fitnesses."""
    return float(np.mean(task_fitnesses))
