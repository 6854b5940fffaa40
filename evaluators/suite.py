"""Evaluate programs on a suite of proxy tasks: losses, fitness, compile once per task.

A :class:`SuiteEvaluator` compiles, per task, one jitted function taking a batch of
``batch_size`` encoded programs of ``max_length`` statements; any programs (new ones,
new constants) of that shape reuse it. The AdamW warm start is evaluated through the
same path on the same seeds and is the reference of the fitness, so it scores exactly 0.

Example:
    >>> from programs.seed_programs import load_seed
    >>> evaluator = SuiteEvaluator(EvaluatorConfig(suite="mlp", seeds=(0,), batch_size=2))
    >>> [e.fitness for e in evaluator.evaluate([load_seed("adamw")])]
    [0.0]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from programs.program import Program
from programs.seed_programs import load_seed

from .encoding import encode_batch
from .fitness import WORST_FITNESS, suite_fitness, task_fitness
from .interpreter import program_losses
from .tasks import SIZE_NAMES, SUITES, ProxyTask, get_task, task_names

PROGRAM_AXES = ("map", "vmap")


@dataclass(frozen=True)
class EvaluatorConfig:
    """What to evaluate on, and how.

    Attributes:
        suite: a suite name (``cpu``, ``gpu``, ``meta10``, ``meta100``), task names
            (comma-separated; ``mlp`` is the proxy size, ``mlp@meta10`` another), a
            sequence of ``(task, size)`` pairs, or of
            :class:`~evaluators.tasks.ProxyTask` objects.
        seeds: training seeds; every program and the reference use the same ones.
        max_length: statements per encoded program (live statements must fit).
        batch_size: programs per compiled call.
        num_state_slots: state slots of the programs.
        program_axis: ``"map"`` (CPU) or ``"vmap"`` (accelerators); None picks by device.
        device: ``"cpu"``, ``"gpu"``, ``"tpu"`` or None for jax's default.
        reference: the seed program fitness is measured against.
    """

    suite: str | tuple = "cpu"
    seeds: tuple[int, ...] = (0, 1)
    max_length: int = 32
    batch_size: int = 4
    num_state_slots: int = 2
    program_axis: str | None = None
    device: str | None = None
    reference: str = "adamw"

    def __post_init__(self):
        if not self.seeds:
            raise ValueError("seeds must not be empty")
        if self.max_length < 1 or self.batch_size < 1:
            raise ValueError("max_length and batch_size must be >= 1")
        if self.program_axis not in (None, *PROGRAM_AXES):
            raise ValueError(f"program_axis must be one of {PROGRAM_AXES}")


class Evaluation(NamedTuple):
    """The result of one program on a suite.

    Attributes:
        fitness: suite fitness (see :mod:`evaluators.fitness`).
        losses: mean validation loss per task (NaN where non-finite).
        task_fitness: fitness per task.
        status: ``"ok"`` or ``"failed"`` (some task gave a non-finite loss).
        reason: why it failed, else None.
        seconds: wall time spent on this program (its share of its batches).
    """

    fitness: float
    losses: dict
    task_fitness: dict
    status: str
    reason: str | None
    seconds: float


def resolve_suite(suite) -> tuple[tuple[str, str], ...]:
    """``(task, size)`` pairs of a suite name, task name(s) or explicit pairs."""
    if isinstance(suite, str):
        if suite in SUITES:
            return tuple(SUITES[suite])
        pairs = [tuple((token.strip() + "@proxy").split("@")[:2])
                 for token in suite.split(",") if token.strip()]
        unknown = [name for name, size in pairs
                   if name not in task_names() or size not in SIZE_NAMES]
        if unknown or not pairs:
            raise ValueError(f"unknown suite or task {suite!r}; suites: "
                             f"{', '.join(sorted(SUITES))}; tasks: {', '.join(task_names())}"
                             f" (a task at another size: {task_names()[0]}@meta10)")
        return tuple(pairs)
    return tuple((str(name), str(size)) for name, size in suite)


def suite_tasks(suite) -> list[ProxyTask]:
    """The tasks of a suite; explicit :class:`ProxyTask` objects are taken as they are."""
    if not isinstance(suite, str) and all(isinstance(t, ProxyTask) for t in suite):
        return list(suite)
    return [get_task(name, size) for name, size in resolve_suite(suite)]


def evaluation_device(device: str | None):
    """The first jax device of platform ``device`` (``cpu``, ``gpu``, ``tpu``), or jax's
    default device for None; RuntimeError if the platform is not present."""
    return jax.devices(device)[0] if device else jax.devices()[0]


def task_label(name: str, size: str) -> str:
    """How a task is named in results: ``vit`` at proxy size, ``vit@meta10`` otherwise."""
    return name if size == "proxy" else f"{name}@{size}"


@dataclass
class SuiteEvaluator:
    """Evaluates batches of programs on a suite; compiles once per task and shape."""

    config: EvaluatorConfig = field(default_factory=EvaluatorConfig)

    def __post_init__(self):
        self.tasks = {task_label(task.name, task.size): task
                      for task in suite_tasks(self.config.suite)}
        self.device = evaluation_device(self.config.device)
        axis = self.config.program_axis
        self.program_axis = axis or ("map" if self.device.platform == "cpu" else "vmap")
        self.compilations = 0
        self._compiled = {label: jax.jit(self._losses_fn(task))
                          for label, task in self.tasks.items()}
        self._seeds = jax.device_put(jnp.asarray(self.config.seeds, jnp.int32), self.device)
        self._reference = None

    def _losses_fn(self, task):
        def losses(batch, seeds):
            self.compilations += 1  # runs once per trace, i.e. per compilation
            return program_losses(task, batch, seeds, self.config.num_state_slots,
                                  self.program_axis)
        return losses

    def task_losses(self, programs: Sequence[Program]) -> tuple[dict, np.ndarray]:
        """Per-seed validation losses ``{task: (programs, seeds)}`` and seconds per program."""
        size = self.config.batch_size
        losses = {label: [] for label in self.tasks}
        seconds = np.zeros(len(programs))
        for start in range(0, len(programs), size):
            chunk = programs[start:start + size]
            batch = encode_batch(chunk, self.config.max_length, self.config.num_state_slots,
                                 pad_to=size)
            batch = jax.device_put(batch, self.device)
            for label, compiled in self._compiled.items():
                began = time.perf_counter()
                out = np.asarray(compiled(batch, self._seeds))
                seconds[start:start + len(chunk)] += (time.perf_counter() - began) / len(chunk)
                losses[label].append(out[:len(chunk)])
        return {label: np.concatenate(parts) for label, parts in losses.items()}, seconds

    def reference_losses(self) -> dict:
        """Per-seed losses of the reference program (the AdamW warm start), computed once."""
        if self._reference is None:
            losses, _ = self.task_losses([load_seed(self.config.reference)])
            self._reference = {label: values[0] for label, values in losses.items()}
        return self._reference

    def evaluate(self, programs: Sequence[Program]) -> list[Evaluation]:
        """Fitness and losses of each program; a blow-up is a result, not an exception."""
        reference = self.reference_losses()
        losses, seconds = self.task_losses(programs)
        results = []
        for row in range(len(programs)):
            per_task, reasons, task_losses = {}, [], {}
            for label in self.tasks:
                fitness, reason = task_fitness(losses[label][row], reference[label])
                per_task[label] = fitness
                task_losses[label] = float(np.mean(losses[label][row]))
                if reason:
                    reasons.append(f"{label}: {reason}")
            total = suite_fitness(list(per_task.values()))
            results.append(Evaluation(
                fitness=WORST_FITNESS if reasons else total, losses=task_losses,
                task_fitness=per_task, status="failed" if reasons else "ok",
                reason="; ".join(reasons) or None, seconds=float(seconds[row])))
        return results
