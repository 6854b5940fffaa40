"""Making children: select, mutate, then dedup before anything is evaluated.

For each child: a tournament picks the parent on an island, a mutation makes a valid
child (abstract execution inside the mutator), then the structural hash is looked up
(a hit gives the fingerprint without running the program), then the funcsim
fingerprint; a fingerprint with a stored fitness is a *cache hit*: the child joins its
island at once with that fitness. When the fitness tunes each program's step size, the
fingerprint is scale-free (:func:`programs.funcsim.scale_free_fingerprint`): programs
whose updates differ by a positive factor share one evaluation. A fingerprint already
being evaluated waits for that evaluation. Only new behaviours are queued for evaluation.

Example:
    >>> import random, tempfile
    >>> from search.store import RunStore
    >>> from programs.seed_programs import load_seed
    >>> store = RunStore.create(tempfile.mkdtemp(), {})
    >>> breeder = Breeder(store, Mutator(), tournament_size=2)
    >>> pid, fp, route = breeder.add(load_seed("adamw"), None, "warm start", 0, epoch_start=True)
    >>> route, breeder.waiting[fp] == [pid]
    ('queued', True)
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from programs.dataflow import count_redundant
from programs.funcsim import fingerprint, scale_free_fingerprint
from programs.hashing import structural_hash
from programs.mutation import Mutator
from programs.parser import parse
from programs.printer import to_source
from programs.program import Program

from .evolution import Island, Member, tournament
from .store import RunStore

HIT, WAIT, QUEUED = "hit", "wait", "queued"


@dataclass
class Counters:
    """What the breeder did in this session (the store holds the run's totals)."""

    generated: int = 0
    cache_hits: int = 0
    structural_hits: int = 0
    queued: int = 0
    waited: int = 0


@dataclass
class Breeder:
    """Makes children into the store and decides what needs evaluating."""

    store: RunStore
    mutator: Mutator
    tournament_size: int
    scale_free: bool = False
    waiting: dict[str, list[int]] = field(default_factory=dict)  # fingerprint -> ids
    queue: list[tuple[str, int, str]] = field(default_factory=list)  # (fp, id, source)
    counters: Counters = field(default_factory=Counters)
    # structural hash -> (funcsim fingerprint, update scale)
    _fingerprints: dict[str, tuple[str, float]] = field(default_factory=dict)
    _programs: dict[int, Program] = field(default_factory=dict)

    def program(self, program_id: int) -> Program:
        """The program with ``program_id``, parsed once."""
        if program_id not in self._programs:
            self._programs[program_id] = parse(self.store.program(program_id)["source"])
        return self._programs[program_id]

    def member(self, program_id: int, fitness: float) -> Member:
        return Member(program_id, self.program(program_id), fitness)

    def breed(self, island: Island, rng: random.Random) -> list[Member]:
        """Make one child on ``island``; returns the members that joined now (cache hit)."""
        (parent,) = tournament(self.tournament_size)(list(island.population), rng)
        child, mutation = self.mutator(parent.program, rng)
        pid, fp, route = self.add(child, parent.program_id, str(mutation), island.index)
        self.counters.generated += 1
        if route != HIT:
            return []
        return [self.member(pid, self.store.program(pid)["fitness"])]

    def add(self, program: Program, parent: int | None, mutation: str, island: int,
            epoch_start: bool = False) -> tuple[int, str, str]:
        """Record ``program``; join it now if its behaviour is known, else queue or wait.

        Returns ``(program id, fingerprint, route)``, route one of ``hit``, ``wait``,
        ``queued``.
        """
        source = to_source(program)
        shash = structural_hash(program)
        known = self._fingerprints.get(shash)
        if known is None:
            known = self.fingerprint(program)
            self._fingerprints[shash] = known
        else:
            self.counters.structural_hits += 1
        fp, scale = known
        pid = self.store.add_program(source, parent, mutation, island, shash, fp,
                                     len(program), count_redundant(program), epoch_start,
                                     update_scale=scale)
        self._programs[pid] = program
        return pid, fp, self.route(pid, fp, source)

    def fingerprint(self, program: Program) -> tuple[str, float]:
        """``(cache key, update scale)``: scale-free when the step size is tuned."""
        if self.scale_free:
            return scale_free_fingerprint(program)
        return fingerprint(program), 1.0

    def route(self, pid: int, fp: str, source: str) -> str:
        """Join from the cache (``hit``), wait on an in-flight twin (``wait``), or queue."""
        cached = self.store.cached_fitness(fp)
        if cached is not None:
            self.store.join([pid], cached, cache_hit=True)
            self.counters.cache_hits += 1
            return HIT
        if fp in self.waiting:
            self.waiting[fp].append(pid)
            self.counters.waited += 1
            return WAIT
        self.waiting[fp] = [pid]
        self.queue.append((fp, pid, source))
        self.counters.queued += 1
        return QUEUED

    def take(self, count: int) -> list[tuple[str, int, str]]:
        """Up to ``count`` queued evaluations, first in first out."""
        batch, self.queue = self.queue[:count], self.queue[count:]
        return batch

    def requeue(self, entries: list[tuple[str, int, str]]) -> None:
        """Put entries back at the front (their worker died)."""
        self.queue = list(entries) + self.queue
