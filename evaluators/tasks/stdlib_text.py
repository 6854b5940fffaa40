"""Text already on disk: the Python standard library's own source, as bytes.

Files are the top-level ``*.py`` files of ``sysconfig.get_paths()["stdlib"]``, sorted by
name. Every ``val_every``-th file (by sorted index, starting at 0) is held out for
validation; the others are training text. The text is read, never downloaded; it
depends on the Python version installed (``corpus_digest`` names it).

Example:
    >>> train, val = load_corpus(train_bytes=10_000, val_bytes=2_000)
    >>> len(train), len(val), int(train.max()) < VOCAB
    (10000, 2000, True)
"""

import hashlib
import sysconfig
from functools import lru_cache
from pathlib import Path

import numpy as np

VOCAB = 128  # ASCII; bytes >= 128 (rare in the stdlib) become 127 (DEL, otherwise unused)


def stdlib_files() -> list[Path]:
    """The top-level ``*.py`` files of the standard library, sorted by name."""
    root = Path(sysconfig.get_paths()["stdlib"])
    return sorted(root.glob("*.py"), key=lambda p: p.name)


def split_files(val_every: int = 10) -> tuple[list[Path], list[Path]]:
    """``(train_files, val_files)``: every ``val_every``-th file is held out."""
    files = stdlib_files()
    train = [f for i, f in enumerate(files) if i % val_every != 0]
    val = [f for i, f in enumerate(files) if i % val_every == 0]
    return train, val


def _concat(files: list[Path], limit: int) -> np.ndarray:
    chunks, total = [], 0
    for f in files:
        data = np.frombuffer(f.read_bytes(), np.uint8)
        chunks.append(data[: limit - total])
        total += len(chunks[-1])
        if total >= limit:
            break
    if total < limit:
        raise ValueError(f"the stdlib holds only {total} bytes for this split, {limit} asked")
    return np.minimum(np.concatenate(chunks), VOCAB - 1)


@lru_cache(maxsize=8)
def load_corpus(train_bytes: int, val_bytes: int, val_every: int = 10):
    """The first ``train_bytes`` of the training files and ``val_bytes`` of the held-out
    files, each concatenated in sorted order, as uint8 arrays with values below ``VOCAB``.
    """
    train_files, val_files = split_files(val_every)
    return _concat(train_files, train_bytes), _concat(val_files, val_bytes)


def corpus_digest(train_bytes: int, val_bytes: int, val_every: int = 10) -> str:
    """A short hash of the corpus, so results can name the exact text they used."""
    train, val = load_corpus(train_bytes, val_bytes, val_every)
    return hashlib.sha256(train.tobytes() + b"|" + val.tobytes()).hexdigest()[:12]
