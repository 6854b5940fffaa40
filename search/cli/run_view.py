"""A read-only, consistent view of one run, for the commands that inspect it.

:func:`open_run` opens the run store read-only and starts one read transaction, so every
query of a command (``top``, ``show``, ``lineage``, ``diff``, ``report``) sees the same
snapshot of the database while the search goes on writing (WAL). The SQL that the
inspection needs beyond :class:`search.store.RunStore`'s own methods lives here, read
only; the schema is the store's.

Birth is given two ways: ``born_s``, seconds of search time (the clock of ``status`` and
``climb``: a resumed run's goes on where it stopped, the pause not counted), and
``born_evaluations``, how many proxy evaluations had finished by then.

Example:
    >>> import tempfile
    >>> from search.store import RunStore
    >>> directory = tempfile.mkdtemp()
    >>> store = RunStore.create(directory, {"seed": 0})
    >>> pid = store.add_program("def train(w, g, lr):\\n    u = g * 0.1\\n    return u",
    ...                         parent=None, mutation="seed", island=0, structural_hash="s",
    ...                         fingerprint="f", statements=1, redundant=0)
    >>> view = open_run(directory)
    >>> record = view.program(pid)
    >>> record.mutation, record.live_statements, record.fitness
    ('seed', 1, None)
    >>> view.program(7)
    Traceback (most recent call last):
    ...
    search.cli.UsageError: ...: no program 7 in this run (1 programs)
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import sqlite3
from dataclasses import asdict, dataclass

from ..store import RunStore, StoreError

PROXY = "proxy"


@dataclass(frozen=True)
class ProgramRecord:
    """One program of a run, with what the inspection derives from its row."""

    id: int
    source: str
    parent: int | None
    mutation: str
    island: int
    fingerprint: str
    statements: int
    redundant: int
    fitness: float | None
    cache_hit: bool
    born_s: float
    born_evaluations: int

    @property
    def live_statements(self) -> int:
        return self.statements - self.redundant

    def to_json(self) -> dict:
        return json_safe(dict(asdict(self), live_statements=self.live_statements))


def json_safe(value):
    """``value`` with non-finite floats as None, so the JSON is strict.

    >>> json_safe({"a": [float("nan"), 1.5]})
    {'a': [None, 1.5]}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def search_seconds(clock: list[tuple[float, float]], when: float) -> float:
    """Seconds of search time at unix time ``when``, from ``clock``: the stats rows'
    ``(at, elapsed)`` pairs in order (one every ~2 s while the search runs).

    It counts on from the stats row nearest in wall time, before or after ``when``, so a
    pause between a kill and a resume (no row, and no program born, in it) is not counted.

    >>> clock = [(100.0, 2.0), (102.0, 4.0), (5000.0, 6.0)]  # paused after 102, resumed
    >>> search_seconds(clock, 101.0), search_seconds(clock, 4999.0), search_seconds(clock, 99.0)
    (3.0, 5.0, 1.0)
    """
    from bisect import bisect_right

    if not clock:
        return 0.0
    i = bisect_right(clock, when, key=lambda row: row[0])
    before = clock[i - 1] if i > 0 else None
    after = clock[i] if i < len(clock) else None
    if after is None or (before is not None and when - before[0] <= after[0] - when):
        return before[1] + (when - before[0])
    return max(0.0, after[1] - (after[0] - when))


def open_run(directory) -> "RunView":
    """The run in ``directory``, read-only.

    Raises:
        UsageError: a missing, foreign or damaged run directory (one line).
    """
    from . import UsageError

    try:
        store = RunStore.open_readonly(directory)
        view = RunView(store)
    except StoreError as err:
        raise UsageError(str(err)) from None
    return view


@contextlib.contextmanager
def database_errors_as_usage(directory):
    """Within it, a database error while reading the run in ``directory`` (a damaged
    file) becomes one line (:class:`search.cli.UsageError`) instead of a traceback."""
    from . import UsageError

    try:
        yield
    except sqlite3.DatabaseError as err:
        raise UsageError(f"{directory}: cannot read the run database ({err})") from None


def reads_run(command):
    """Decorate ``run_<name>(args)``: :func:`database_errors_as_usage` for ``args.dir``."""

    @functools.wraps(command)
    def wrapper(args):
        with database_errors_as_usage(args.dir):
            return command(args)

    return wrapper


class RunView:
    """Queries over one snapshot of a run. Use :func:`open_run`."""

    def __init__(self, store: RunStore):
        self.store = store
        self.db = store.db
        self.db.execute("BEGIN")  # one read transaction: one consistent snapshot
        self.config = store.config()
        self.created = float(store.get_meta("created", "0"))
        self.meta_suite = (self.config.get("meta_validation") or {}).get("suite", "meta10")
        self._finished = [t for (t,) in self.db.execute(
            "SELECT finished FROM evaluations WHERE suite=? ORDER BY finished", (PROXY,))]
        self._clock = self.db.execute("SELECT at, elapsed FROM stats ORDER BY at").fetchall()

    @property
    def directory(self):
        return self.store.directory

    def close(self) -> None:
        self.db.execute("COMMIT")
        self.store.close()

    def suite_name(self, by: str) -> str:
        """The store's suite for ``--by proxy|meta``."""
        return PROXY if by == PROXY else self.meta_suite

    # -- programs ----------------------------------------------------------------------

    def program_count(self) -> int:
        return self.store.program_count()

    def program(self, program_id: int) -> ProgramRecord:
        """The program with ``program_id``.

        Raises:
            UsageError: no such program in the run.
        """
        from . import UsageError

        row = self.store.program(program_id)
        if row is None:
            raise UsageError(f"{self.directory}: no program {program_id} in this run "
                             f"({self.program_count()} programs)")
        return self._record(row)

    def _record(self, row: dict) -> ProgramRecord:
        return ProgramRecord(
            id=row["id"], source=row["source"], parent=row["parent"],
            mutation=row["mutation"], island=row["island"], fingerprint=row["fingerprint"],
            statements=row["statements"], redundant=row["redundant"],
            fitness=row["fitness"], cache_hit=bool(row["cache_hit"]),
            born_s=self.search_seconds(row["born"]),
            born_evaluations=self.evaluations_before(row["born"]))

    def search_seconds(self, when: float) -> float:
        """Seconds of search time at unix time ``when`` (:func:`search_seconds`); in a
        run with no stats row yet, seconds since it was created."""
        if not self._clock:
            return when - self.created
        return search_seconds(self._clock, when)

    def evaluations_before(self, when: float) -> int:
        """Proxy evaluations finished at or before unix time ``when``."""
        from bisect import bisect_right

        return bisect_right(self._finished, when)

    def lineage(self, program_id: int) -> list[ProgramRecord]:
        """``program_id`` and its ancestors, the first ancestor (the warm start) first."""
        chain, seen = [], set()
        current = program_id
        while current is not None and current not in seen:
            seen.add(current)
            record = self.program(current)
            chain.append(record)
            current = record.parent
        return chain[::-1]

    def rows(self, columns: str = "id, parent, born, statements, redundant, fitness, "
                                  "structural_hash, joined, island") -> list[dict]:
        """Every program's ``columns``, in id order (for plots over the whole run)."""
        cursor = self.db.execute(f"SELECT {columns} FROM programs ORDER BY id")
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def children(self, up_to: int | None = None) -> list[dict]:
        """Every program with a parent (of ids up to ``up_to``), in id order: its ``id``,
        ``mutation`` text, ``cache_hit``, ``as_parent`` (the same behaviour as its
        parent: the same fingerprint), ``fitness`` and ``parent_fitness`` (None where
        not joined)."""
        up_to_id = "" if up_to is None else f"WHERE c.id <= {int(up_to)} "
        cursor = self.db.execute(
            "SELECT c.id, c.mutation, c.cache_hit, c.fingerprint = p.fingerprint, "
            "c.fitness, p.fitness FROM programs c JOIN programs p ON c.parent = p.id "
            f"{up_to_id}ORDER BY c.id")
        return [{"id": pid, "mutation": m, "cache_hit": bool(hit), "as_parent": bool(same),
                 "fitness": fitness, "parent_fitness": parent_fitness}
                for pid, m, hit, same, fitness, parent_fitness in cursor]

    # -- evaluations -------------------------------------------------------------------

    def evaluations(self, fingerprint: str) -> dict[str, dict]:
        """Every evaluation of a behaviour, by suite (``proxy``, ``meta10``, ...)."""
        cursor = self.db.execute("SELECT * FROM evaluations WHERE fingerprint=? ORDER BY id",
                                 (fingerprint,))
        names = [c[0] for c in cursor.description]
        found = {}
        for row in cursor:
            record = dict(zip(names, row))
            record["losses"] = json.loads(record["losses"])
            record["task_fitness"] = json.loads(record["task_fitness"])
            found[record["suite"]] = record
        return found

    def top(self, count: int, by: str = PROXY) -> list[dict]:
        """The best behaviours by ``by`` (``proxy`` or ``meta``), one program each.

        Each entry: ``rank``, ``record`` (:class:`ProgramRecord`), ``suite``,
        ``fitness``, ``losses``, ``task_fitness`` and ``other``: the fitness on the
        other suite (meta when ranked by proxy and the reverse), or None.
        """
        suite = self.suite_name(by)
        other_suite = self.meta_suite if suite == PROXY else PROXY
        entries = []
        for rank, top in enumerate(self.store.top_programs(count, suite), 1):
            found = self.evaluations(top["fingerprint"])
            other = found.get(other_suite)
            entries.append({
                "rank": rank, "record": self.program(top["program"]), "suite": suite,
                "fitness": top["fitness"], "losses": top["losses"],
                "task_fitness": found[suite]["task_fitness"],
                "other_suite": other_suite,
                "other": other["fitness"] if other and other["status"] == "ok" else None})
        return entries

    def joined(self) -> list[tuple[int, int, float]]:
        """``(program id, island, fitness)`` of every program with a fitness, in the
        order they joined their islands."""
        return self.db.execute("SELECT id, island, fitness FROM programs WHERE joined IS "
                               "NOT NULL ORDER BY joined").fetchall()

    def stats(self) -> list[dict]:
        return self.store.stats()

    def counts(self) -> dict:
        return dict(self.store.counts(), elapsed=float(self.store.get_meta("elapsed", "0")))
