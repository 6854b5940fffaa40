"""What the inspection says about a program beyond its row: simplified form, Lion mark.

The simplification pipeline (``programs.simplify``) and the Lion recogniser
(``programs.recognize``) are used when they are installed; without them the simplified
form is the program without its redundant statements and the Lion mark is unknown
(None). Marks are cached by structural hash, which ignores names, dead code and the
order of independent statements, so a run's many near-copies are recognised once.

Example:
    >>> from programs.seed_programs import load_seed
    >>> marks = ProgramMarks()
    >>> len(marks.simplified(load_seed("adamw"))) <= len(load_seed("adamw"))
    True
    >>> marks.lion(load_seed("adamw")) in (False, None)
    True
"""

from __future__ import annotations

import dataclasses
import importlib

from programs.dataflow import remove_redundancy
from programs.hashing import structural_hash
from programs.program import Program


def _optional(module: str, name: str):
    """``module.name``, or None when that module (or name) does not exist yet."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


class ProgramMarks:
    """Simplified forms and Lion marks, computed once per structural hash."""

    def __init__(self):
        self._simplify = _optional("programs.simplify", "simplify")
        self._is_lion = _optional("programs.lion_core", "is_lion_family")
        self._recognize = _optional("programs.recognize", "recognize_lion")
        self._lion: dict[str, bool | None] = {}

    @property
    def simplifier(self) -> str:
        """How :meth:`simplified` simplifies, in words."""
        return "programs.simplify" if self._simplify else "redundant statements removed"

    @property
    def recognizes_lion(self) -> bool:
        return self._is_lion is not None

    def simplified(self, program: Program) -> Program:
        """The simplified form (falls back to redundancy removal if a step fails)."""
        if self._simplify is None:
            return remove_redundancy(program)
        try:
            result = self._simplify(program)
        except Exception:  # a failed simplification must not break an inspection
            return remove_redundancy(program)
        return result if isinstance(result, Program) else getattr(result, "program", result)

    def lion(self, program: Program, key: str | None = None) -> bool | None:
        """True when ``program`` is Lion-family, False when not, None when unknown.

        ``key`` (the structural hash, if known) saves computing it.
        """
        if self._is_lion is None:
            return None
        key = key or structural_hash(program)
        if key not in self._lion:
            try:
                self._lion[key] = bool(self._is_lion(program))
            except Exception:  # the recogniser gives up on this one: unknown
                self._lion[key] = None
        return self._lion[key]


    def lion_constants(self, program: Program) -> dict | None:
        """Lion's fitted constants (``b1``, ``b2``, ...) when Lion-family, else None."""
        if self._recognize is None:
            return None
        try:
            match = self._recognize(program)
        except Exception:
            return None
        if match is None:
            return None
        if dataclasses.is_dataclass(match):
            return dataclasses.asdict(match)
        return dict(match._asdict()) if hasattr(match, "_asdict") else dict(vars(match))


def lion_text(mark: bool | None) -> str:
    """``yes``, ``no`` or ``?`` for a Lion mark.

    >>> [lion_text(m) for m in (True, False, None)]
    ['yes', 'no', '?']
    """
    return {True: "yes", False: "no"}.get(mark, "?")
