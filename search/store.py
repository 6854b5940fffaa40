"""The run store: one SQLite database (WAL) per run directory, the run's only truth.

Everything a run knows is written here as it happens, one transaction per event, so a
controller killed at any instant loses nothing it had learnt:

* ``programs``: every program generated (source, parent, mutation, island, birth time,
  both hashes, length and redundant count) and, once it has a fitness, when it *joined*
  its island's population (``joined``: a global order). An island's population is
  derived from the store: P copies of the program that started its current epoch (the
  warm start, or a restart's program; ``epoch_start``), aged out by the programs that
  joined after it, keeping the last P;
* ``evaluations``: every evaluation (suite, per-task losses, fitness, status and
  reason, wall time, worker), keyed by the program's funcsim fingerprint;
* ``batches``: every batch sent to an actor (program ids, attempt) and what came of
  it (worker, outcome, results the store already held: 0), so where and how often each
  evaluation ran can be read back;
* ``stats``: counters over time; ``checkpoints``: RNG state and island bookkeeping;
* ``meta``: the config the run was started with, and the format version.

Readers (``status``, ``top``, ...) open the database read-only and work while the run
writes.

Example:
    >>> import tempfile
    >>> store = RunStore.create(tempfile.mkdtemp(), {"seed": 0})
    >>> pid = store.add_program("def train(w, g, lr):\\n    u = g * 0.1\\n    return u",
    ...                         parent=None, mutation="seed", island=0, structural_hash="s",
    ...                         fingerprint="f", statements=1, redundant=0)
    >>> store.counts()["programs"]
    1
"""

from __future__ import annotations

import functools
import json
import sqlite3
import time
from pathlib import Path
from typing import Iterable

from .store_schema import ADDED_COLUMNS, DATABASE, FORMAT, SCHEMA


class StoreError(Exception):
    """A run directory that is missing, foreign or damaged; one line saying which."""


def check_makeable(directory: str | Path) -> None:
    """StoreError unless ``directory`` is a directory or could be made one (no file in
    the way, at it or above it).

    >>> try:
    ...     check_makeable("/dev/null/run")
    ... except StoreError as err:
    ...     print(err)
    /dev/null/run: cannot be made: /dev/null is not a directory; choose another --out
    """
    directory = Path(directory)
    for path in (directory, *directory.parents):
        if path.is_dir():
            return
        if path.exists():
            problem = "not a directory" if path == directory else \
                f"cannot be made: {path} is not a directory"
            raise StoreError(f"{directory}: {problem}; choose another --out")


class RunStore:
    """Read and write one run's database. Use :meth:`create`, :meth:`open` or
    :meth:`open_readonly`."""

    def __init__(self, connection: sqlite3.Connection, directory: Path, readonly: bool):
        self.db = connection
        self.directory = directory
        self.readonly = readonly

    # -- opening ---------------------------------------------------------------------

    @classmethod
    def create(cls, directory: str | Path, config: dict) -> "RunStore":
        """Start a new run in ``directory`` (created; must not hold a run already)."""
        directory = Path(directory)
        path = cls.check_new(directory)
        directory.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        with _transaction(db):
            db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
            db.execute("INSERT INTO meta VALUES ('config', ?)", (json.dumps(config),))
            db.execute("INSERT INTO meta VALUES ('created', ?)", (repr(time.time()),))
        return cls(db, directory, readonly=False)

    @staticmethod
    def check_new(directory: str | Path) -> Path:
        """The database path of a new run in ``directory``; StoreError if it cannot be one."""
        directory = Path(directory)
        path = directory / DATABASE
        check_makeable(directory)
        if path.exists():
            raise StoreError(f"{directory}: already holds a run; use --resume to continue "
                             "it or choose another --out")
        if directory.exists() and any(directory.iterdir()):
            raise StoreError(f"{directory}: exists and is not empty; choose another --out")
        return path

    @classmethod
    def open(cls, directory: str | Path) -> "RunStore":
        """Open an existing run for writing (``--resume``)."""
        directory = Path(directory)
        path = cls._check(directory)
        db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        store = cls(db, directory, readonly=False)
        store._check_format()
        db.execute("PRAGMA journal_mode=WAL")
        store._add_missing_columns()
        return store

    def _add_missing_columns(self) -> None:
        self.db.executescript(SCHEMA)  # missing tables; existing ones are left as they are
        for table, column, declaration in ADDED_COLUMNS:
            have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    @classmethod
    def open_readonly(cls, directory: str | Path) -> "RunStore":
        """Open an existing run read-only; works while the run writes."""
        directory = Path(directory)
        path = cls._check(directory)
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)
        store = cls(db, directory, readonly=True)
        store._check_format()
        return store

    @staticmethod
    def _check(directory: Path) -> Path:
        if not directory.exists():
            raise StoreError(f"{directory}: no such run directory")
        if not directory.is_dir():
            raise StoreError(f"{directory}: not a directory")
        path = directory / DATABASE
        if not path.exists():
            raise StoreError(f"{directory}: not a lion-search run (no {DATABASE})")
        return path

    def _check_format(self) -> None:
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key='format'").fetchone()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{self.directory}: the run database is damaged or foreign "
                             f"({err})") from None
        if row is None or row[0] != FORMAT:
            raise StoreError(f"{self.directory}: not a lion-search run database "
                             f"(format {row[0] if row else 'missing'})")

    def close(self) -> None:
        self.db.close()

    # -- meta ------------------------------------------------------------------------

    def config(self) -> dict:
        return json.loads(self._meta("config"))

    def _meta(self, key: str) -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        if row is None:
            raise StoreError(f"{self.directory}: the run database lacks '{key}'")
        return row[0]

    def set_meta(self, key: str, value: str) -> None:
        with _transaction(self.db):
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    # -- programs --------------------------------------------------------------------

    def add_program(self, source: str, parent: int | None, mutation: str, island: int,
                    structural_hash: str, fingerprint: str, statements: int,
                    redundant: int, epoch_start: bool = False,
                    update_scale: float = 1.0) -> int:
        """Record a generated program; returns its id.

        ``update_scale``: the size of its updates on funcsim's streams
        (:func:`programs.funcsim.scale_free_fingerprint`), which converts a twin's step
        multipliers into its own.
        """
        with _transaction(self.db):
            cursor = self.db.execute(
                "INSERT INTO programs (source, parent, mutation, island, born, "
                "structural_hash, fingerprint, statements, redundant, epoch_start, "
                "update_scale) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (source, parent, mutation, island, time.time(), structural_hash,
                 fingerprint, statements, redundant, int(epoch_start), update_scale))
            return cursor.lastrowid

    def join(self, program_ids: Iterable[int], fitness: float, cache_hit: bool) -> None:
        """Programs join their islands' populations with ``fitness`` (in one transaction)."""
        with _transaction(self.db):
            self._join(program_ids, fitness, cache_hit)

    def _join(self, program_ids, fitness, cache_hit):
        for pid in program_ids:
            (last,) = self.db.execute("SELECT COALESCE(MAX(joined), 0) FROM programs").fetchone()
            self.db.execute("UPDATE programs SET fitness=?, cache_hit=?, joined=? "
                            "WHERE id=? AND joined IS NULL",
                            (fitness, int(cache_hit), last + 1, pid))

    def population(self, island: int, size: int) -> list[tuple[int, float]]:
        """The island's population, oldest first: ``(program id, fitness)`` pairs.

        Its current epoch's first program (``size`` copies of it after a restart, one
        in the island's first epoch, which fills up as children join), then every
        program bred after it that joined after it (not those bred before a restart that
        came back after it), keeping the last ``size``; empty before the epoch's program
        has a fitness. The same as :class:`~search.evolution.Island` holds in memory.
        """
        start = self._epoch_start_row(island)
        if start is None:
            return []
        rows = self.db.execute(
            "SELECT id, fitness FROM programs WHERE island=? AND joined >= ? AND id >= ? "
            "ORDER BY joined", (island, start[1], start[0])).fetchall()
        (first,) = self.db.execute("SELECT MIN(id) FROM programs WHERE island=? AND "
                                   "epoch_start=1", (island,)).fetchone()
        copies = 1 if start[0] == first else size
        return ([rows[0]] * copies + rows[1:])[-size:]

    def epoch_start(self, island: int) -> int:
        """The id of the island's current epoch's first program (the warm start, or its
        last restart that has joined); 0 before any has."""
        start = self._epoch_start_row(island)
        return 0 if start is None else start[0]

    def _epoch_start_row(self, island: int) -> tuple[int, int] | None:
        return self.db.execute(
            "SELECT id, joined FROM programs WHERE island=? AND epoch_start=1 AND "
            "joined IS NOT NULL ORDER BY joined DESC LIMIT 1", (island,)).fetchone()

    def pending_programs(self) -> list[tuple[int, str, str, int]]:
        """Programs generated but not yet joined: ``(id, source, fingerprint, island)``."""
        return self.db.execute(
            "SELECT id, source, fingerprint, island FROM programs WHERE joined IS NULL "
            "ORDER BY id").fetchall()

    def program(self, program_id: int) -> dict | None:
        """One program's row as a dict, or None."""
        cursor = self.db.execute("SELECT * FROM programs WHERE id=?", (program_id,))
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cursor.description], row))

    # -- evaluations -----------------------------------------------------------------

    def cached_fitness(self, fingerprint: str, suite: str = "proxy") -> float | None:
        """The stored fitness of a behaviour, if it has been evaluated."""
        row = self.db.execute("SELECT fitness FROM evaluations WHERE fingerprint=? AND "
                              "suite=?", (fingerprint, suite)).fetchone()
        return None if row is None else row[0]

    def add_evaluation(self, fingerprint: str, program: int, suite: str, result: dict,
                       worker: str, joiners: Iterable[int] = ()) -> bool:
        """Record an evaluation and let ``joiners`` join with its fitness, atomically.

        Returns False (and records nothing) when this behaviour was already evaluated
        on this suite: an evaluation is stored exactly once.
        """
        with _transaction(self.db):
            exists = self.db.execute("SELECT 1 FROM evaluations WHERE fingerprint=? AND "
                                     "suite=?", (fingerprint, suite)).fetchone()
            if exists:
                return False
            multipliers = result.get("multipliers")
            self.db.execute(
                "INSERT INTO evaluations (fingerprint, program, suite, fitness, losses, "
                "task_fitness, status, reason, seconds, worker, finished, multipliers, runs, "
                "seeds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (fingerprint, program, suite, result["fitness"], json.dumps(result["losses"]),
                 json.dumps(result["task_fitness"]), result["status"], result["reason"],
                 result["seconds"], worker, time.time(),
                 None if multipliers is None else json.dumps(multipliers),
                 result.get("runs", 1.0), result.get("seeds") or None))
            joiners = list(joiners)
            if joiners:
                self._join(joiners, result["fitness"], cache_hit=False)
                self.db.execute("UPDATE programs SET cache_hit=1 WHERE id IN (%s) AND id != ?"
                                % ",".join("?" * len(joiners)), (*joiners, program))
            return True

    def evaluation(self, fingerprint: str, suite: str = "proxy") -> dict | None:
        cursor = self.db.execute("SELECT * FROM evaluations WHERE fingerprint=? AND suite=?",
                                 (fingerprint, suite))
        row = cursor.fetchone()
        if row is None:
            return None
        record = dict(zip([c[0] for c in cursor.description], row))
        return _decoded(record)

    def multipliers(self, program_id: int, suite: str = "proxy") -> dict | None:
        """The step multipliers per task at which ``program_id``'s behaviour was scored on
        ``suite``, in its own units; None if not evaluated there (or before multipliers
        were stored).

        The evaluation may be of a twin whose updates differ by a positive factor (the
        scale-free cache): its multipliers are converted by the ratio of update scales.
        """
        row = self.db.execute(
            "SELECT e.multipliers, q.update_scale, p.update_scale FROM programs p "
            "JOIN evaluations e ON e.fingerprint = p.fingerprint AND e.suite = ? "
            "JOIN programs q ON q.id = e.program WHERE p.id = ?",
            (suite, program_id)).fetchone() if self._has_multipliers else None
        if row is None or row[0] is None:
            return None
        stored, evaluated_scale, own_scale = row
        ratio = (evaluated_scale or 1.0) / (own_scale or 1.0)
        return {task: None if m is None else m * ratio
                for task, m in json.loads(stored).items()}

    @functools.cached_property
    def _has_multipliers(self) -> bool:
        """Whether this database has the columns of the step-size search (a run made
        before them, opened read-only, has not)."""
        have = {row[1] for row in self.db.execute("PRAGMA table_info(evaluations)")}
        return "multipliers" in have

    def top_programs(self, count: int, suite: str = "proxy") -> list[dict]:
        """The best evaluated behaviours on ``suite``, one program each (the first made)."""
        cursor = self.db.execute(
            "SELECT e.fingerprint, e.fitness, e.losses, e.status, "
            "(SELECT MIN(p.id) FROM programs p WHERE p.fingerprint = e.fingerprint) "
            "FROM evaluations e WHERE e.suite=? AND e.status='ok' "
            "ORDER BY e.fitness DESC, e.id LIMIT ?", (suite, count))
        return [{"fingerprint": f, "fitness": fit, "losses": json.loads(losses),
                 "status": status, "program": pid}
                for f, fit, losses, status, pid in cursor.fetchall()]

    def meta_validated(self) -> set[str]:
        rows = self.db.execute("SELECT fingerprint FROM evaluations WHERE suite != 'proxy'")
        return {row[0] for row in rows}

    # -- batches ---------------------------------------------------------------------

    def transaction(self) -> "_transaction":
        """``with store.transaction():`` the writes inside are stored together or not at
        all (a batch's results and its record)."""
        return _transaction(self.db)

    def add_batch(self, kind: str, actor: int, programs: list[int], attempt: int = 1) -> int:
        """Record a batch about to go to actor number ``actor``; returns its id.
        ``attempt``: 1 + the most times one of its programs went before."""
        with _transaction(self.db):
            return self.db.execute(
                "INSERT INTO batches (kind, actor, attempt, programs, submitted) "
                "VALUES (?, ?, ?, ?, ?)",
                (kind, actor, attempt, json.dumps(programs), time.time())).lastrowid

    def finish_batch(self, batch: int, outcome: str, worker: str | None = None,
                     rejected: int = 0) -> None:
        """``ok`` (results stored, ``rejected`` of them already held), ``died`` (the
        actor died), ``failed`` (the evaluator raised) or ``lost`` (the controller
        stopped with it in flight)."""
        with _transaction(self.db):
            self.db.execute("UPDATE batches SET outcome=?, worker=?, rejected=?, finished=? "
                            "WHERE id=? AND outcome IS NULL",
                            (outcome, worker, rejected, time.time(), batch))

    def lose_unfinished_batches(self) -> dict[tuple[str, int], int]:
        """Mark the batches a killed controller left in flight ``lost``; returns
        ``{(kind, program id): times sent}`` over every batch that brought nothing back."""
        with _transaction(self.db):
            self.db.execute("UPDATE batches SET outcome='lost', finished=? "
                            "WHERE outcome IS NULL", (time.time(),))
        sends = {}
        for kind, programs in self.db.execute(
                "SELECT kind, programs FROM batches WHERE outcome != 'ok'"):
            for pid in json.loads(programs):
                sends[kind, pid] = sends.get((kind, pid), 0) + 1
        return sends

    # -- counters, stats, checkpoints ------------------------------------------------

    def program_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM programs").fetchone()[0]

    def evaluation_count(self, suite: str = "proxy") -> int:
        return self.db.execute("SELECT COUNT(*) FROM evaluations WHERE suite=?",
                               (suite,)).fetchone()[0]

    def counts(self) -> dict:
        """Counters derived from the rows themselves (always consistent)."""
        (programs, joined, hits, statements, redundant) = self.db.execute(
            "SELECT COUNT(*), COUNT(joined), COALESCE(SUM(cache_hit), 0), "
            "COALESCE(SUM(statements), 0), COALESCE(SUM(redundant), 0) FROM programs"
        ).fetchone()
        evaluations, failed = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(status != 'ok'), 0) FROM evaluations "
            "WHERE suite='proxy'").fetchone()
        (meta,) = self.db.execute(
            "SELECT COUNT(*) FROM evaluations WHERE suite != 'proxy'").fetchone()
        best = self.db.execute("SELECT MAX(fitness) FROM evaluations WHERE suite='proxy' "
                               "AND status='ok'").fetchone()[0]
        best_meta = self.db.execute("SELECT MAX(fitness) FROM evaluations WHERE "
                                    "suite != 'proxy' AND status='ok'").fetchone()[0]
        return {
            "programs": programs, "joined": joined, "pending": programs - joined,
            "evaluations": evaluations, "failed_evaluations": failed,
            "meta_evaluations": meta, "cache_hits": hits,
            "cache_hit_rate": hits / joined if joined else 0.0,
            "redundant_share": redundant / statements if statements else 0.0,
            "best_fitness": best, "best_meta_fitness": best_meta,
        }

    def add_stats(self, elapsed: float, data: dict) -> None:
        with _transaction(self.db):
            self.db.execute("INSERT INTO stats (at, elapsed, data) VALUES (?, ?, ?)",
                            (time.time(), elapsed, json.dumps(data)))

    def last_stats(self) -> dict | None:
        row = self.db.execute("SELECT data FROM stats ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else json.loads(row[0])

    def stats(self) -> list[dict]:
        return [dict(json.loads(data), at=at, elapsed=elapsed) for at, elapsed, data in
                self.db.execute("SELECT at, elapsed, data FROM stats ORDER BY id")]

    def save_checkpoint(self, data: dict) -> None:
        with _transaction(self.db):
            self.db.execute("INSERT INTO checkpoints (at, data) VALUES (?, ?)",
                            (time.time(), json.dumps(data)))
            self.db.execute("DELETE FROM checkpoints WHERE id NOT IN "
                            "(SELECT id FROM checkpoints ORDER BY id DESC LIMIT 3)")

    def latest_checkpoint(self) -> dict | None:
        row = self.db.execute("SELECT data FROM checkpoints ORDER BY id DESC LIMIT 1"
                              ).fetchone()
        if row is None:
            return None
        try:
            return json.loads(row[0])
        except json.JSONDecodeError:
            raise StoreError(f"{self.directory}: the latest checkpoint is corrupt") from None


def _decoded(record: dict) -> dict:
    """An evaluation row with its JSON columns decoded."""
    for key in ("losses", "task_fitness", "multipliers"):
        if record.get(key) is not None:
            record[key] = json.loads(record[key])
    return record


class _transaction:
    """``with _transaction(db):`` BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error); inside
    another transaction, a part of it (the outer one commits or rolls back)."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        self.outer = False

    def __enter__(self):
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")
            self.outer = True
        return self.db

    def __exit__(self, kind, value, traceback):
        if self.outer:
            self.db.execute("COMMIT" if kind is None else "ROLLBACK")
        return False
