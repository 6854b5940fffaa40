"""Fitness: how much better than the AdamW warm start a program trains, per task and overall.

Per task, with ``L`` the program's validation loss and ``L_ref`` the AdamW warm start's,
both averaged over the same seeds::

    fitness = ln(L_ref / L)          # 0: as good as AdamW; +0.05: about 5% lower loss

A log ratio rather than a clipped difference, so that programs far worse than AdamW
still differ (the search can climb from a weak warm start). It is floored at
:data:`WORST_FITNESS` (-10: a loss e^10 times AdamW's) and capped at
:data:`BEST_FITNESS` (+10), which a perfect loss (0) gets, so that no positive loss
scores above a perfect one. A non-finite loss on any seed gets the worst fitness and a
recorded reason, never an exception. The suite's fitness is the mean over its tasks.

Example:
    >>> task_fitness([1.0, 1.2], [1.1, 1.1])
    (0.0, None)
    >>> round(task_fitness([1.0], [1.1])[0], 4)
    0.0953
    >>> task_fitness([float("nan"), 1.0], [1.1, 1.1])
    (-10.0, 'non-finite validation loss on 1 of 2 seeds')
    >>> round(suite_fitness([0.1, -0.02]), 6)
    0.04
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

WORST_FITNESS = -10.0
BEST_FITNESS = -WORST_FITNESS


def task_fitness(losses: Sequence[float], reference_losses: Sequence[float]
                 ) -> tuple[float, str | None]:
    """``(fitness, reason)`` of per-seed ``losses`` against the reference's on the same seeds.

    ``reason`` is None for a finite result, else why the fitness is the worst.
    """
    losses = np.asarray(losses, np.float64)
    bad = int(np.sum(~np.isfinite(losses)))
    if bad:
        return WORST_FITNESS, f"non-finite validation loss on {bad} of {losses.size} seeds"
    reference = float(np.mean(np.asarray(reference_losses, np.float64)))
    if not math.isfinite(reference) or reference <= 0:
        raise ValueError(f"the reference loss must be finite and positive, not {reference}")
    loss = float(np.mean(losses))
    if loss <= 0:
        return BEST_FITNESS, None  # a perfect loss: the best there is
    return min(max(math.log(reference / loss), WORST_FITNESS), BEST_FITNESS), None


def suite_fitness(task_fitnesses: Sequence[float]) -> float:
    """The suite's fitness: the mean of its tasks' fitnesses."""
    return float(np.mean(task_fitnesses))
