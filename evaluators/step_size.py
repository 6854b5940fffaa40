"""The step-size search: a program's best global step multiplier, on a log grid.

A program is judged at its best multiplier ``s`` (its update times ``s``), so that a
structural change that only rescales the step is not punished for its constant. The
multipliers live on one absolute grid, ``s = 2 ** (k / 2)`` for integer ``k`` (spacing
``sqrt(2)``), so that a program and its twin scaled by a power of two probe the same
effective steps.

:class:`StepSizeSearch` is a small state machine: :meth:`~StepSizeSearch.probes` says
which grid points to train next, :meth:`~StepSizeSearch.record` takes their losses, and
it is :attr:`~StepSizeSearch.done` when

* the search has covered at least 16x around its centre (``centre / 4 .. centre * 4``),
* the best point's nearest probed neighbours on both sides are one grid step away
  (a factor ``sqrt(2)``), and
* the best point is not at an edge of what was probed (an edge best extends the search
  by 4x past it, up to ``2 ** +-20``).

After the first round (and any extension) the best point's immediate neighbours are
probed: when the best stays put, as it does for most children (their parent's
multiplier is the centre), that settles it, and the search costs 5 probes. Otherwise
each further round halves the gaps left on either side of the best. On a loss that is
unimodal in ``log s`` this finds the best grid point. A blow-up (a non-finite loss) is
a score, the worst one, never an error; a program that blows up everywhere is searched
toward smaller steps a few times, then given up.

A program with no parent to start from (a file: the warm start, the reference, the
landscape's panel) has no centre: its first round is a wide scan, ``2 ** -12 .. 2 ** 6``
at 4x spacing (:data:`WIDE_PROBES`). A search that starts at 1 assumes the loss is
unimodal around 1, and far from its best step it is not: a signum without a learning
rate trained at 1/4..4 collapses to chance, where the losses are flat up to noise, and
a local search settles in that noise (the cautious signum's -2.05 on 4,800 steps of the
ViT, docs/proxy-tasks.md). The scan sees the valley wherever it is in that range.

The evaluator runs the probes of every (program, task) search of a batch together,
round by round, so the rounds cost nothing on CPU and one vmapped batch each on an
accelerator.

Example:
    >>> search = StepSizeSearch(centre=1.0)
    >>> loss = lambda s: (math.log2(s) - 1.5) ** 2      # best at s = 2 ** 1.5
    >>> while not search.done:
    ...     for s in search.probes():
    ...         search.record(s, loss(s))
    >>> search.best, len(search.losses)
    (2.8284271247461903, 7)
"""

from __future__ import annotations

import math

RADIUS = 4            # half-steps: the first probes are centre / 4 and centre * 4
MAX_INDEX = 40        # 2 ** +-20: how far an edge may extend the search
MAX_FAILED_EXTENSIONS = 2  # extensions toward small steps when every probe blew up


FIRST_PROBES = (-RADIUS, 0, RADIUS)  # grid steps from the centre: centre / 4, centre, x4
FIRST_PROBE_MULTIPLES = tuple(2.0 ** (k / 2.0) for k in FIRST_PROBES)  # (0.25, 1.0, 4.0)
WIDE_PROBES = tuple(range(-24, 13, RADIUS))  # without a centre: 2 ** -12 .. 2 ** 6, 4x apart


def grid_index(multiplier: float) -> int:
    """The grid point ``k`` nearest ``multiplier`` (``s = 2 ** (k / 2)``).

    >>> grid_index(1.0), grid_index(4.0), grid_index(0.3)
    (0, 4, -3)
    """
    if not (multiplier > 0 and math.isfinite(multiplier)):
        return 0
    return max(-MAX_INDEX, min(MAX_INDEX, round(2.0 * math.log2(multiplier))))


def grid_value(index: int) -> float:
    """The multiplier of grid point ``index``.

    >>> grid_value(0), grid_value(-4), grid_value(1)
    (1.0, 0.25, 1.4142135623730951)
    """
    return 2.0 ** (index / 2.0)


class StepSizeSearch:
    """The search for one program on one task; see the module docstring.

    Args:
        centre: where to start (a child's: its parent's best multiplier); None (a
            file's): a wide first round, :data:`WIDE_PROBES`, ties going to 1.

    >>> StepSizeSearch(centre=None).probes()[0], len(StepSizeSearch(centre=None).probes())
    (0.000244140625, 10)
    """

    def __init__(self, centre: float | None = 1.0):
        self.centre = 0 if centre is None else grid_index(centre)
        self.losses: dict[int, float] = {}   # grid index -> loss (inf for a blow-up)
        first = WIDE_PROBES if centre is None else [self.centre + k for k in FIRST_PROBES]
        self._pending = [k for k in first if abs(k) <= MAX_INDEX]
        self.stopped = False
        self._failed_extensions = 0
        self._confirmed = False
        self.done = False

    def probes(self) -> list[float]:
        """The multipliers to train next (empty once done)."""
        return [grid_value(k) for k in self._pending]

    def record(self, multiplier: float, loss: float) -> None:
        """The loss at a probed ``multiplier`` (NaN or inf: a blow-up)."""
        index = grid_index(multiplier)
        if index not in self._pending:
            raise ValueError(f"{multiplier} was not a pending probe")
        self._pending.remove(index)
        self.losses[index] = float(loss) if math.isfinite(loss) else math.inf
        if not self._pending:
            self._plan()

    def stop(self) -> None:
        """End the search now (a hurdle failed): its best is the best probed so far.

        >>> search = StepSizeSearch(centre=2.0)
        >>> search.record(2.0, 0.5)
        >>> search.stop()
        >>> search.done, search.probes(), search.best
        (True, [], 2.0)
        """
        self._pending = []
        self.stopped = self.done = True

    @property
    def best_index(self) -> int | None:
        """The best grid point so far (ties: the one nearest the centre), None if every
        probe blew up."""
        finite = [k for k, loss in self.losses.items() if math.isfinite(loss)]
        if not finite:
            return None
        return min(finite, key=lambda k: (self.losses[k], abs(k - self.centre), k))

    @property
    def best(self) -> float | None:
        """The best multiplier so far, None if every probe blew up."""
        index = self.best_index
        return None if index is None else grid_value(index)

    @property
    def best_loss(self) -> float:
        index = self.best_index
        return math.inf if index is None else self.losses[index]

    def _plan(self) -> None:
        best = self.best_index
        if best is None:  # every probe blew up: look at smaller steps, a few times
            lowest = min(self.losses)
            if self._failed_extensions < MAX_FAILED_EXTENSIONS and lowest - RADIUS >= -MAX_INDEX:
                self._failed_extensions += 1
                self._pending = [lowest - RADIUS]
            else:
                self.done = True
            return
        gaps = {}
        for direction in (-1, 1):
            side = [abs(k - best) for k in self.losses if (k - best) * direction > 0]
            gaps[direction] = min(side) if side else None
        # A best at an edge of what was probed: extend past it.
        probes = [best + d * RADIUS for d, gap in gaps.items() if gap is None]
        if not probes and not self._confirmed:
            # First, its immediate neighbours: most children keep their parent's step
            # size, and then this settles it in one round.
            self._confirmed = True
            probes = [best + d for d, gap in gaps.items() if gap > 1]
        elif not probes:
            # Then halve the gaps that remain around the best (down to one grid step).
            probes = [best + d * (gap // 2) for d, gap in gaps.items() if gap > 1]
        self._pending = [k for k in probes if abs(k) <= MAX_INDEX]
        self.done = not self._pending


def run_search(loss_fn, centre: float | None = 1.0) -> StepSizeSearch:
    """Run a :class:`StepSizeSearch` to the end with ``loss_fn(multiplier) -> loss``.

    >>> run_search(lambda s: abs(math.log(s)), centre=8.0).best
    1.0
    """
    search = StepSizeSearch(centre)
    while not search.done:
        for multiplier in search.probes():
            search.record(multiplier, loss_fn(multiplier))
    return search
