"""The one error type of the program language.

Every rejection of a program (bad syntax, an op not in the registry, a kind error, ...)
is a :class:`ProgramError` that knows where it happened, so a command line can print
one clear line and exit with status 2.

Example:
    >>> str(ProgramError("unknown op 'foo'", filename="a.py", line=3, col=8))
    "a.py:3:8: unknown op 'foo'"
"""

from __future__ import annotations


class ProgramError(ValueError):
    """A program that is not valid in the language, with its location.

    Attributes:
        reason: what is wrong, in words.
        filename: the file the program came from ("<program>" when none).
        line: 1-based line in that file, or None.
        col: 1-based column, or None.
    """

    def __init__(self, reason: str, filename: str | None = None,
                 line: int | None = None, col: int | None = None):
        self.reason = reason
        self.filename = filename or "<program>"
        self.line = line
        self.col = col
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.filename
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        return f"{where}: {self.reason}"

    def located(self, filename: str) -> "ProgramError":
        """The same error, naming ``filename`` (kept if already set)."""
        if self.filename != "<program>":
            return self
        return ProgramError(self.reason, filename, self.line, self.col)
