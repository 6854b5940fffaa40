"""Resolve the program argument of a command: a program file, or ``DIR:ID`` in a run.

A path that exists as a file is a program file, whatever characters it holds; otherwise
``DIR:ID`` (split at the last colon) names program ``ID`` of the run in ``DIR``, read
from its store read-only (so it works while the run writes).

Example:
    >>> from programs.seed_programs import seed_path
    >>> load_program_ref(str(seed_path("lion"))).num_state_slots
    2
    >>> load_program_ref("/no/such/run:3")
    Traceback (most recent call last):
    ...
    search.cli.UsageError: /no/such/run: no such run directory
"""

from __future__ import annotations

from pathlib import Path

from programs.kinds import check
from programs.parser import parse, parse_file
from programs.program import Program


def load_program_ref(ref: str) -> Program:
    """The valid program named by ``ref``: a file path, or ``DIR:ID`` of a run.

    Raises:
        ProgramError: a missing file or an invalid program (one clear line).
        UsageError: ``DIR:ID`` with a missing or foreign run, a bad or unknown id.
    """
    directory, _, ident = ref.rpartition(":")
    if Path(ref).is_file() or not directory:
        return check(parse_file(ref), ref)
    return check(parse(run_program_source(directory, ident), ref), ref)


def program_ref_multipliers(ref: str) -> dict | None:
    """The step multipliers per task that the run found for ``DIR:ID`` (None for a file,
    or a program without them)."""
    directory, _, ident = ref.rpartition(":")
    if Path(ref).is_file() or not directory:
        return None
    store = _open_run(directory)
    try:
        return store.multipliers(_program_id(directory, ident))
    finally:
        store.close()


def _program_id(directory: str, ident: str) -> int:
    from . import UsageError

    try:
        return int(ident)
    except ValueError:
        raise UsageError(f"{directory}:{ident}: expected DIR:ID with a numeric program id "
                         "(or a program file that exists)") from None


def _open_run(directory: str):
    from . import UsageError
    from ..store import RunStore, StoreError

    try:
        return RunStore.open_readonly(directory)
    except StoreError as err:
        raise UsageError(str(err)) from None


def run_program_source(directory: str, ident: str) -> str:
    """The source of program ``ident`` in the run at ``directory``."""
    from . import UsageError

    program_id = _program_id(directory, ident)
    store = _open_run(directory)
    try:
        row = store.program(program_id)
        if row is None:
            raise UsageError(f"{directory}: no program {program_id} in this run "
                             f"({store.program_count()} programs)")
        return row["source"]
    finally:
        store.close()
