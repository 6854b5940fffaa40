"""Resolve the program argument of a command: a program file, or ``DIR:ID`` in a run.

Example:
    >>> from programs.seed_programs import seed_path
    >>> load_program_ref(str(seed_path("lion"))).num_state_slots
    2
"""

from __future__ import annotations

from programs.kinds import check
from programs.parser import parse_file
from programs.program import Program


def load_program_ref(ref: str) -> Program:
    """The valid program named by ``ref`` (a file path; ``DIR:ID`` once runs exist).

    Raises:
        ProgramError: a missing file or an invalid program (one clear line).
    """
    return check(parse_file(ref), ref)
