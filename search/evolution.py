"""Regularized evolution as small composable parts.

Selection is a pipeline of steps over lists of members, composed with ``>>`` in the
manner of PyGlove's evolution ops: ``Sample(T) >> Top(1)`` is a tournament. A
:class:`Population` keeps the last P members that joined (the oldest leaves when a child
joins: *regularized*, age-based removal), and :class:`Island` adds the bookkeeping for
restarts after a plateau; :func:`ring_migrants` says which members migrate between
islands.

Example:
    >>> import random
    >>> population = Population(4)
    >>> for i, fitness in enumerate([0.1, 0.5, 0.2, 0.3, 0.0]):
    ...     population.join(Member(i, None, fitness))
    >>> [m.program_id for m in population]      # member 0 aged out
    [1, 2, 3, 4]
    >>> tournament = Sample(4) >> Top(1)
    >>> [m.program_id for m in tournament(list(population), random.Random(0))]
    [1]
"""

from __future__ import annotations

import collections
import random
from dataclasses import dataclass
from typing import Any, Iterator, Sequence


@dataclass(frozen=True)
class Member:
    """A program in a population: its id in the run store, the program, its fitness."""

    program_id: int
    program: Any
    fitness: float


class Step:
    """A selection step: ``step(members, rng) -> members``; ``a >> b`` runs a then b."""

    def __call__(self, members: Sequence[Member], rng: random.Random) -> list[Member]:
        raise NotImplementedError

    def __rshift__(self, other: "Step") -> "Step":
        return Chain(self, other)


class Chain(Step):
    """Steps run in order."""

    def __init__(self, *steps: Step):
        self.steps = steps

    def __call__(self, members, rng):
        for step in self.steps:
            members = step(members, rng)
        return members


class Sample(Step):
    """``size`` members drawn uniformly without replacement (all if fewer)."""

    def __init__(self, size: int):
        self.size = size

    def __call__(self, members, rng):
        members = list(members)
        return rng.sample(members, min(self.size, len(members)))


class Top(Step):
    """The ``count`` fittest members (ties: the younger, i.e. later in the list)."""

    def __init__(self, count: int):
        self.count = count

    def __call__(self, members, rng):
        order = sorted(range(len(members)), key=lambda i: (members[i].fitness, i),
                       reverse=True)
        return [members[i] for i in order[:self.count]]


def tournament(size: int) -> Step:
    """Tournament selection: the best of ``size`` random members."""
    return Sample(size) >> Top(1)


class Population:
    """The last ``size`` members that joined; the oldest is removed when a child joins."""

    def __init__(self, size: int, members: Sequence[Member] = ()):
        self.size = size
        self._members: collections.deque[Member] = collections.deque(members, maxlen=size)

    def join(self, member: Member) -> None:
        self._members.append(member)

    def __iter__(self) -> Iterator[Member]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)

    def best(self) -> Member:
        return max(self._members, key=lambda m: m.fitness)


class Island:
    """One population with its plateau bookkeeping.

    Attributes:
        index: the island's number.
        population: its :class:`Population`.
        best_fitness: the best fitness that ever joined it (since its last restart).
        since_improvement: children joined since ``best_fitness`` last rose.
        restarts: how many times it was restarted.
        epoch_start: the program id of its last restart (0 before any): a child with a
            smaller id was bred from the population before it, and does not join.
    """

    def __init__(self, index: int, population: Population):
        self.index = index
        self.population = population
        members = list(population)
        self.best_fitness = max((m.fitness for m in members), default=float("-inf"))
        self.since_improvement = 0
        self.restarts = 0
        self.epoch_start = 0

    def join(self, member: Member) -> bool:
        """Add a child; returns False (and adds nothing) for a child bred before the
        island's last restart, which came back from the evaluator after it: the old
        lineage would take the restarted population back at once."""
        if member.program_id < self.epoch_start:
            return False
        self.population.join(member)
        if member.fitness > self.best_fitness:
            self.best_fitness = member.fitness
            self.since_improvement = 0
        else:
            self.since_improvement += 1
        return True

    def plateaued(self, plateau: int) -> bool:
        """Whether ``plateau`` children (> 0) joined without improving the best."""
        return plateau > 0 and self.since_improvement >= plateau

    def restart(self, member: Member) -> None:
        """Replace the population by ``size`` copies of ``member``."""
        self.population = Population(self.population.size, [member] * self.population.size)
        self.best_fitness = member.fitness
        self.since_improvement = 0
        self.restarts += 1
        self.epoch_start = member.program_id

    def state(self) -> dict:
        return {"best_fitness": self.best_fitness, "since_improvement": self.since_improvement,
                "restarts": self.restarts}

    def restore(self, state: dict) -> None:
        self.best_fitness = state["best_fitness"]
        self.since_improvement = state["since_improvement"]
        self.restarts = state["restarts"]



def ring_migrants(islands: Sequence[Island]) -> list[tuple[Island, Member]]:
    """Migration on a ring: each island receives the best member of the island before it.

    Returns ``(receiving island, migrant)`` pairs; none for a single island, and none
    from an island whose population is empty (before its warm start was evaluated).

    Example:
        >>> a, b = Island(0, Population(2)), Island(1, Population(2))
        >>> a.join(Member(1, None, 0.3)), b.join(Member(2, None, 0.1))
        (True, True)
        >>> [(to.index, m.program_id) for to, m in ring_migrants([a, b])]
        [(0, 2), (1, 1)]
    """
    if len(islands) < 2:
        return []
    return [(island, islands[i - 1].population.best()) for i, island in enumerate(islands)
            if len(islands[i - 1].population)]
