"""Two program sources side by side: which lines are equal, changed, added or removed.

Example:
    >>> a = "def train(w, g, lr):\\n    u = g * 0.1\\n    return u\\n"
    >>> b = "def train(w, g, lr):\\n    s = sign(g)\\n    u = s * 0.1\\n    return u\\n"
    >>> for row in side_by_side(a, b):
    ...     print(row)
    Row(mark=' ', left='def train(w, g, lr):', right='def train(w, g, lr):')
    Row(mark='|', left='    u = g * 0.1', right='    s = sign(g)')
    Row(mark='>', left='', right='    u = s * 0.1')
    Row(mark=' ', left='    return u', right='    return u')
"""

from __future__ import annotations

import difflib
from typing import NamedTuple


class Row(NamedTuple):
    """One row of a side-by-side diff.

    ``mark``: ``' '`` equal, ``'|'`` changed, ``'<'`` only on the left, ``'>'`` only on
    the right (as ``sdiff`` prints them).
    """

    mark: str
    left: str
    right: str


def side_by_side(a: str, b: str) -> list[Row]:
    """The lines of ``a`` and ``b`` aligned by :class:`difflib.SequenceMatcher`."""
    left, right = a.splitlines(), b.splitlines()
    rows = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [Row(" ", x, y) for x, y in zip(left[i1:i2], right[j1:j2])]
            continue
        olds, news = left[i1:i2], right[j1:j2]
        for k in range(max(len(olds), len(news))):
            old = olds[k] if k < len(olds) else None
            new = news[k] if k < len(news) else None
            mark = "|" if old is not None and new is not None else "<" if new is None else ">"
            rows.append(Row(mark, old or "", new or ""))
    return rows


def unified(a: str, b: str, name_a: str, name_b: str) -> list[str]:
    """A unified diff of ``a`` and ``b`` (lines without newlines).

    >>> unified("x\\n", "y\\n", "a", "b")[2:]
    ['@@ -1 +1 @@', '-x', '+y']
    """
    return list(difflib.unified_diff(a.splitlines(), b.splitlines(), name_a, name_b,
                                     lineterm=""))
