"""The paired comparison of two optimizers (or two search settings) on the same seeds:
the mean difference, its standard error and the wins. numpy only, so that commands
reading run stores can use it without importing jax.

Example:
    >>> paired(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 3.5]))
    (0.5, 0.5, 2)
"""

from __future__ import annotations

import math

import numpy as np


def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, int]:
    """``(mean difference, its standard error, wins of a)`` over paired seeds; the
    standard error is nan for fewer than two pairs or a non-finite difference.

    >>> paired(np.array([0.3]), np.array([0.1]))[1]
    nan
    """
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    return (*mean_and_se(d), int(np.sum(d > 0)))


def mean_and_se(values) -> tuple[float, float]:
    """``(mean, its standard error)`` of ``values``; the standard error is nan for fewer
    than two values or a non-finite one.

    >>> mean_and_se([1.0, 2.0, 3.0, 6.0])
    (3.0, 1.0801234497346435)
    """
    d = np.asarray(values, np.float64)
    if d.size < 2 or not np.all(np.isfinite(d)):
        return float(np.mean(d)), math.nan
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))
