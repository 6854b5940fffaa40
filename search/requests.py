"""What an evaluation request carries besides the programs: where each program's
step-size searches start, the hurdle it must clear there, and the bar at which it is
confirmed on the held-out seeds. All three follow from the run store (a program's
parent, its fitness, multipliers and update scale), so a batch's request can be rebuilt
from the store at any time, as ``lion-search bench search`` does to replay a search's
own work on the raw evaluators.

Example (a child whose update is twice its parent's starts at half the step):
    >>> scaled_centres({"mlp": 2.0, "vit": None}, parent_scale=1.0, child_scale=2.0)
    {'mlp': 1.0, 'vit': None}
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .config import SearchConfig

PROXY, META = "proxy", "meta"


class Request(NamedTuple):
    """The arguments of an evaluator actor's ``evaluate`` for one batch."""

    kind: str
    sources: list
    centres: list
    hurdles: list | None  # None: no program in the batch has one
    bars: list | None


def scaled_centres(centres: dict, parent_scale, child_scale) -> dict:
    """A parent's multipliers carried to a child whose update is ``child_scale`` where
    the parent's is ``parent_scale`` (the same step per unit of update); unchanged when
    either scale is unusable."""
    scales = parent_scale, child_scale
    if not all(scale and math.isfinite(scale) and scale > 0 for scale in scales):
        return centres
    ratio = parent_scale / child_scale
    return {task: None if m is None else m * ratio for task, m in centres.items()}


class EvaluationRequests:
    """Builds batches' requests from a run's store and config."""

    def __init__(self, config: SearchConfig, store):
        self.config = config
        self.store = store

    def request(self, kind: str, pids: list[int], sources: list[str] | None = None
                ) -> Request:
        """The request for programs ``pids`` (their stored sources unless given); each
        program's row and its parent's are read once."""
        rows = [self._rows(pid) for pid in pids]
        if sources is None:
            sources = [program["source"] for program, _ in rows]
        hurdles = [self.hurdle(kind, parent) for _, parent in rows]
        bars = [self.bar(kind, parent) for _, parent in rows]
        return Request(kind, list(sources),
                       [self.centre(kind, program, parent) for program, parent in rows],
                       hurdles if any(h is not None for h in hurdles) else None,
                       bars if any(b is not None for b in bars) else None)

    def _rows(self, pid: int) -> tuple[dict, dict | None]:
        """Program ``pid``'s row and its parent's (None for a parentless program)."""
        program = self.store.program(pid)
        parent = None if program["parent"] is None else self.store.program(program["parent"])
        return program, parent

    def hurdle(self, kind: str, parent: dict | None) -> float | None:
        """The fitness a child must reach at its parent's step size to be tuned: its
        ``parent``'s (row) minus ``hurdle_margin``; None (no hurdle) when off or
        parentless."""
        margin = self.config.hurdle_margin
        if margin is None or kind != PROXY or self.config.evaluator.step_size != "tuned":
            return None
        fitness = _fitness(parent)
        return None if fitness is None else fitness - margin

    def bar(self, kind: str, parent: dict | None) -> float | None:
        """The fitness at which a program is confirmed on the held-out seeds (when
        ``evaluator.confirm_seeds`` are set): its ``parent``'s (row), so that every
        apparent improvement is confirmed before it can lead; a parentless program (the
        warm start, a restart) always is."""
        if kind != PROXY or not self.config.evaluator.confirm_seeds:
            return None
        fitness = _fitness(parent)
        return -math.inf if fitness is None else fitness

    def centre(self, kind: str, program: dict, parent: dict | None) -> dict | None:
        """Where a program's step-size searches start (``program`` and ``parent``: their
        rows): for the proxy suite its parent's multipliers (a child inherits its
        parent's step size), for meta-validation its own proxy multipliers; None
        (multiplier 1) for a program without either."""
        if self.config.evaluator.step_size != "tuned":
            return None
        if kind == META:
            return self.store.multipliers(program["id"])
        if parent is None:
            return None
        centres = self.store.multipliers(parent["id"])
        if centres is None or self.config.hurdle_margin is None:
            return centres
        # With a hurdle, a child starts at its parent's step per unit of update.
        return scaled_centres(centres, parent["update_scale"], program["update_scale"])


def _fitness(row: dict | None) -> float | None:
    """A program row's fitness; None for no row (no parent) or one not yet scored."""
    return None if row is None else row["fitness"]
