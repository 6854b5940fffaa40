"""The program a search starts from: a seed name or a program file.

Example:
    >>> len(warm_start_program("adamw").statements) > 0
    True
"""

from __future__ import annotations

from programs.dataflow import remove_redundancy
from programs.errors import ProgramError
from programs.parser import parse_file
from programs.seed_programs import SEED_NAMES, load_seed


def warm_start_program(name: str, max_length: int | None = None):
    """The warm-start program: a seed name (``adamw``) or a program file.

    With ``max_length`` (the evaluator's), a warm start whose live statements would not
    fit is a :class:`~programs.errors.ProgramError`.
    """
    program = load_seed(name) if name in SEED_NAMES else parse_file(name)
    live = len(remove_redundancy(program))
    if max_length is not None and live > max_length:
        raise ProgramError(f"the warm start has {live} live statements; evaluator."
                           f"max_length is {max_length}", None if name in SEED_NAMES else name)
    return program
