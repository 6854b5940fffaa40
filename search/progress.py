"""Live progress of a search: a rich table on a terminal, a plain line elsewhere.

Shows programs/s and evaluations/s (over the last 30 s), the cache-hit rate, the
best fitness per island and the current best program.

Example:
    >>> line = format_line({"elapsed": 12.0, "programs": 40, "evaluations": 10,
    ...                     "cache_hit_rate": 0.5, "best_fitness": 0.01,
    ...                     "island_best": [0.01]}, 3.0, 0.8)
    >>> line.split(" | ")[:3]
    ['12s', 'programs 40 (3.0/s)', 'evaluations 10 (0.8/s)']
"""

from __future__ import annotations

import collections
import sys
import time

RATE_WINDOW_S = 30.0


def format_line(snapshot: dict, programs_per_s: float, evaluations_per_s: float) -> str:
    best = snapshot.get("best_fitness")
    islands = ", ".join(f"{b:+.4f}" for b in snapshot.get("island_best", [])
                        if b != float("-inf"))
    return " | ".join([
        f"{snapshot['elapsed']:.0f}s",
        f"programs {snapshot['programs']} ({programs_per_s:.1f}/s)",
        f"evaluations {snapshot['evaluations']} ({evaluations_per_s:.1f}/s)",
        f"cache hits {snapshot['cache_hit_rate']:.0%}",
        f"best {best:+.4f}" if best is not None else "best -",
        f"islands [{islands}]",
    ])


class Progress:
    """``update(snapshot, store)`` after each stats row; ``close()`` at the end."""

    def __init__(self, plain_every_s: float = 10.0, stream=None):
        self.stream = stream or sys.stdout
        self.live = None
        self.plain_every_s = plain_every_s
        self.last_plain = 0.0
        self.history = collections.deque()
        if self.stream.isatty():
            from rich.live import Live

            self.live = Live(refresh_per_second=2, transient=False)
            self.live.start()

    def _rates(self, snapshot: dict) -> tuple[float, float]:
        """Programs/s and evaluations/s over the last :data:`RATE_WINDOW_S` seconds (or
        since the first update): evaluations land in batches, so a rate over the last
        update alone reads 0 between them."""
        now = time.monotonic()
        self.history.append((now, snapshot["programs"], snapshot["evaluations"]))
        while len(self.history) > 2 and now - self.history[1][0] >= RATE_WINDOW_S:
            self.history.popleft()
        then, programs, evaluations = self.history[0]
        span = now - then
        if span <= 0:
            return 0.0, 0.0
        return ((snapshot["programs"] - programs) / span,
                (snapshot["evaluations"] - evaluations) / span)

    def update(self, snapshot: dict, store) -> None:
        programs_per_s, evaluations_per_s = self._rates(snapshot)
        if self.live is None:
            if time.monotonic() - self.last_plain >= self.plain_every_s:
                self.last_plain = time.monotonic()
                print(format_line(snapshot, programs_per_s, evaluations_per_s),
                      file=self.stream, flush=True)
            return
        self.live.update(self._table(snapshot, store, programs_per_s, evaluations_per_s))

    def _table(self, snapshot, store, programs_per_s, evaluations_per_s):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table(title="lion-search", show_header=False)
        table.add_row("elapsed", f"{snapshot['elapsed']:.0f} s")
        table.add_row("programs", f"{snapshot['programs']}  ({programs_per_s:.1f}/s)")
        table.add_row("evaluations", f"{snapshot['evaluations']}  ({evaluations_per_s:.1f}/s)"
                                     f"  in flight {snapshot.get('inflight', 0)}")
        table.add_row("cache-hit rate", f"{snapshot['cache_hit_rate']:.1%}")
        table.add_row("redundant share", f"{snapshot['redundant_share']:.1%}")
        for index, best in enumerate(snapshot.get("island_best", [])):
            shown = "-" if best == float("-inf") else f"{best:+.4f}"
            table.add_row(f"island {index} best", shown)
        parts = [table]
        top = store.top_programs(1)
        if top:
            source = store.program(top[0]["program"])["source"]
            parts.append(Text(f"best program (fitness {top[0]['fitness']:+.4f}):\n{source}"))
        return Group(*parts)

    def close(self) -> None:
        """Stop the live display (once; closing again does nothing)."""
        if self.live is not None:
            self.live.stop()
            self.live = None
