"""The seed programs, shipped as program files in ``programs/seeds/``.

``adamw`` is the paper's warm start exactly as DESIGN.md gives it; the others are the
classic optimizers the search is measured against (``signum`` is the paper's ablation:
one EMA for both update and momentum, *not* Lion).

Example:
    >>> load_seed("lion").num_state_slots
    2
    >>> "adamw" in SEED_NAMES
    True
"""

from __future__ import annotations

from pathlib import Path

from .errors import ProgramError
from .parser import parse_file
from .program import Program

SEEDS_DIR = Path(__file__).resolve().parent / "seeds"
SEED_NAMES: tuple[str, ...] = tuple(sorted(p.stem for p in SEEDS_DIR.glob("*.py")))


def seed_path(name: str) -> Path:
    """The file of seed program ``name``."""
    if name not in SEED_NAMES:
        raise ProgramError(f"unknown seed program '{name}'; known: {', '.join(SEED_NAMES)}")
    return SEEDS_DIR / f"{name}.py"


def load_seed(name: str) -> Program:
    """Parse seed program ``name`` (``adamw``, ``lion``, ``sgd``, ...)."""
    return parse_file(seed_path(name))
