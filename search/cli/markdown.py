"""Markdown tables, as the commands print them and the experiment summaries commit them.

Example:
    >>> print("\\n".join(markdown_table(["seed", "best"], [["0", "+0.30"], ["1", "-"]])))
    | seed | best |
    |---|---|
    | 0 | +0.30 |
    | 1 | - |
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """The lines of a markdown table: the header, its rule, one line per row of cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]
