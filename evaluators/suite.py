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

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from programs.program import Program
from programs.seed_programs import load_seed

from . import compile_cache
from .encoding import EncodedBatch, encode_batch
from .fitness import WORST_FITNESS, suite_fitness, task_fitness
from .interpreter import program_losses
from .evaluator_config import PROGRAM_AXES, STEP_SIZES, EvaluatorConfig  # noqa: F401 (re-exported)
from .step_size import StepSizeSearch, grid_index, grid_value
from .tasks import SIZE_NAMES, SUITES, ProxyTask, get_task, task_names

# How the reason of an evaluation stopped at its hurdle begins.
STOPPED_AT_HURDLE = "stopped at the hurdle"


class TunedLosses(NamedTuple):
    """What :meth:`SuiteEvaluator.tuned_losses` returns (see there)."""

    losses: dict
    multipliers: dict
    seconds: np.ndarray
    runs: np.ndarray
    stopped: frozenset = frozenset()


class Evaluation(NamedTuple):
    """The result of one program on a suite.

    Attributes:
        fitness: suite fitness (see :mod:`evaluators.fitness`).
        losses: mean validation loss per task (NaN where non-finite), at the multiplier.
        task_fitness: fitness per task.
        status: ``"ok"`` or ``"failed"`` (some task gave a non-finite loss).
        reason: why it failed, else None.
        seconds: wall time spent on this program (its share of its batches).
        multipliers: the step multiplier each task was scored at (1.0 when the step size
            is fixed; None where every multiplier tried blew up).
        runs: training runs spent, in plain evaluations (one run of every seed on every
            task is 1.0; the step-size search costs more).
        seeds: how many seeds the fitness is over (the tuning seeds for a program
            stopped at its hurdle; the seeds and the confirmation seeds for a confirmed
            one).
    """

    fitness: float
    losses: dict
    task_fitness: dict
    status: str
    reason: str | None
    seconds: float
    multipliers: dict | None = None
    runs: float = 1.0
    seeds: int = 0


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
        compile_cache.enable()  # before the first compilation (see compile_cache)
        self.tasks = {task_label(task.name, task.size): task
                      for task in suite_tasks(self.config.suite)}
        self.device = evaluation_device(self.config.device)
        axis = self.config.program_axis
        self.program_axis = axis or ("map" if self.device.platform == "cpu" else "vmap")
        self.compilations = 0
        self._compiled = {label: jax.jit(self._losses_fn(task))
                          for label, task in self.tasks.items()}
        seeds = tuple(self.config.seeds)
        tune = min(self.config.tune_seeds, len(seeds))
        self._seeds = {name: jax.device_put(jnp.asarray(part, jnp.int32), self.device)
                       for name, part in (("all", seeds), ("tune", seeds[:tune]),
                                          ("rest", seeds[tune:]),
                                          ("confirm", tuple(self.config.confirm_seeds)))
                       if part}
        self._reference = None

    @property
    def tuned(self) -> bool:
        return self.config.step_size == "tuned"

    def _losses_fn(self, task):
        def losses(batch, step_scales, seeds):
            self.compilations += 1  # runs once per trace, i.e. per compilation
            return program_losses(task, batch, seeds, self.config.num_state_slots,
                                  self.program_axis, step_scales, self.config.sign_flips,
                                  self.config.schedule_input, self.config.scale_gradients)
        return losses

    def _encode(self, programs: Sequence[Program]) -> EncodedBatch:
        return encode_batch(programs, self.config.max_length, self.config.num_state_slots)

    def _run(self, label: str, encoded: EncodedBatch, rows: Sequence[tuple[int, float]],
             seeds: str, seconds: np.ndarray) -> np.ndarray:
        """Per-seed losses ``(rows, seeds)`` of ``rows`` = (program index, multiplier) on
        task ``label``, in compiled chunks (:meth:`_chunks`); wall time is added to the
        programs' ``seconds``."""
        out = []
        for chunk, size in self._chunks(rows):
            index = np.asarray([i for i, _ in chunk] + [chunk[-1][0]] * (size - len(chunk)))
            scales = np.asarray([s for _, s in chunk] + [chunk[-1][1]] * (size - len(chunk)),
                                np.float32)
            batch = jax.device_put(jax.tree.map(lambda a: a[index], encoded), self.device)
            began = time.perf_counter()
            losses = np.asarray(self._compiled[label](
                batch, jax.device_put(scales, self.device), self._seeds[seeds]))
            share = (time.perf_counter() - began) / len(chunk)
            for i, _ in chunk:
                seconds[i] += share
            out.append(losses[:len(chunk)])
        return np.concatenate(out)

    def _chunks(self, rows: list):
        """``(chunk, compiled size)`` pairs: chunks of ``batch_size`` rows, and the rest.

        On an accelerator (``vmap``) the rest is one chunk padded to ``batch_size`` (the
        padding runs alongside, nearly free). On CPU (``map``) padding rows would run one
        after another at full cost, so the rest runs row by row through a second compiled
        shape of size 1: a step-size search's rounds rarely fill a batch.
        """
        size = self.config.batch_size
        full = len(rows) - len(rows) % size
        chunks = [(rows[start:start + size], size) for start in range(0, full, size)]
        rest = rows[full:]
        if rest and self.program_axis == "vmap":
            chunks.append((rest, size))
        elif rest:
            chunks += [([row], 1) for row in rest]
        return chunks

    def task_losses(self, programs: Sequence[Program]) -> tuple[dict, np.ndarray]:
        """Per-seed validation losses ``{task: (programs, seeds)}`` as written (multiplier
        1), and seconds per program."""
        encoded = self._encode(programs)
        seconds = np.zeros(len(programs))
        rows = [(i, 1.0) for i in range(len(programs))]
        return {label: self._run(label, encoded, rows, "all", seconds)
                for label in self.tasks}, seconds

    def tuned_losses(self, programs: Sequence[Program], centres: Sequence[dict] | None = None,
                     on_round=None, hurdles: Sequence[float | None] | None = None
                     ) -> "TunedLosses":
        """Each program at its best multiplier per task.

        Args:
            programs: the programs.
            centres: per program, ``{task: multiplier}`` to centre its searches on (its
                parent's best); a task missing there starts at the geometric mean of
                the given ones, or at 1.
            on_round: called as ``on_round(task, round, rows)`` before each round of
                probes (for progress on long evaluations).
            hurdles: per program, a fitness or None. A program with a hurdle is first
                trained at its centre on the tuning seeds, every task; when its suite
                fitness there is below the hurdle, its searches stop (it is scored
                there: :attr:`TunedLosses.stopped`), else they go on from that probe.

        Returns:
            :class:`TunedLosses`: per-seed losses ``{task: (programs, seeds)}`` at the
            multiplier found (NaN where every multiplier blew up, and on the seeds a
            stopped program did not train), ``{task: [multiplier or None]}``, seconds
            and training runs (in plain evaluations) per program, the stopped programs.
        """
        encoded = self._encode(programs)
        count, seeds = len(programs), len(self.config.seeds)
        tune = len(self._seeds["tune"])
        seconds, runs = np.zeros(count), np.zeros(count)
        centres = list(centres) if centres is not None else [None] * count
        searches = {label: [StepSizeSearch(centre_for(centres[i], label)) for i in range(count)]
                    for label in self.tasks}
        per_seed = {label: {} for label in self.tasks}  # (program, grid index) -> losses
        stopped = set()
        if hurdles is not None and any(h is not None for h in hurdles):
            stopped = self._hurdle(encoded, searches, per_seed, list(hurdles), seconds, runs)
        losses, multipliers = {}, {}
        for label in self.tasks:
            for round_index in itertools.count(1):
                rows = [(i, s) for i, search in enumerate(searches[label])
                        for s in search.probes()]
                if not rows:
                    break
                if on_round is not None:
                    on_round(label, round_index, len(rows))
                out = self._run(label, encoded, rows, "tune", seconds)
                for (i, s), values in zip(rows, out):
                    per_seed[label][i, grid_index(s)] = values
                    runs[i] += tune / seeds / len(self.tasks)
                    searches[label][i].record(s, _mean_loss(values))
            table = np.full((count, seeds), np.nan)
            for i, search in enumerate(searches[label]):
                if search.best is not None:
                    table[i, :tune] = per_seed[label][i, search.best_index]
            found = [i for i, search in enumerate(searches[label])
                     if search.best is not None and i not in stopped]
            if "rest" in self._seeds and found:
                rows = [(i, searches[label][i].best) for i in found]
                table[found, tune:] = self._run(label, encoded, rows, "rest", seconds)
                for i in found:
                    runs[i] += (seeds - tune) / seeds / len(self.tasks)
            losses[label] = table
            multipliers[label] = [search.best for search in searches[label]]
        return TunedLosses(losses, multipliers, seconds, runs, frozenset(stopped))

    def _hurdle(self, encoded, searches, per_seed, hurdles, seconds, runs) -> set[int]:
        """Train each program with a hurdle at its centre times each of
        ``hurdle_probes`` (tuning seeds, every task); stop the searches of those whose
        best suite fitness there is below their hurdle."""
        reference = self.reference_losses()
        tune, seeds = len(self._seeds["tune"]), len(self.config.seeds)
        hurdled = [i for i, hurdle in enumerate(hurdles) if hurdle is not None]
        offsets = sorted({grid_index(p) for p in self.config.hurdle_probes})
        fitness = {(i, k): [] for i in hurdled for k in offsets}
        for label in self.tasks:
            rows = [(i, s, k) for i in hurdled for k in offsets
                    for s in [grid_value(searches[label][i].centre + k)]
                    if s in searches[label][i].probes()]  # (none past the grid's end)
            out = self._run(label, encoded, [(i, s) for i, s, _ in rows], "tune", seconds)
            for (i, s, k), values in zip(rows, out):
                per_seed[label][i, grid_index(s)] = values
                runs[i] += tune / seeds / len(self.tasks)
                searches[label][i].record(s, _mean_loss(values))
                fitness[i, k].append(task_fitness(values, reference[label][:tune])[0])
        stopped = {i for i in hurdled
                   if max(suite_fitness(fitness[i, k]) for k in offsets
                          if len(fitness[i, k]) == len(self.tasks)) < hurdles[i]}
        for i in stopped:
            for label in self.tasks:
                searches[label][i].stop()
        return stopped

    def reference_losses(self) -> dict:
        """Per-seed losses of the reference program (the AdamW warm start), computed once;
        at its own best multipliers when the step size is tuned."""
        if self._reference is None:
            program = load_seed(self.config.reference)
            if self.tuned:
                losses, multipliers = self.tuned_losses([program])[:2]
                self.reference_multipliers = {label: m[0] for label, m in multipliers.items()}
            else:
                losses, _ = self.task_losses([program])
                self.reference_multipliers = {label: 1.0 for label in self.tasks}
            self._reference = {label: values[0] for label, values in losses.items()}
            if "confirm" in self._seeds:  # after the seeds, in the order of confirm_seeds
                held_out = self._confirmation_losses([program], [self.reference_multipliers],
                                                     np.zeros(1))
                self._reference = {label: np.concatenate([values, held_out[label][0]])
                                   for label, values in self._reference.items()}
        return self._reference

    def _confirmation_losses(self, programs, multipliers: list[dict], seconds) -> dict:
        """Per-seed losses ``{task: (programs, confirm seeds)}`` of each program at its
        ``multipliers`` (one dict per program) on the confirmation seeds."""
        encoded = self._encode(programs)
        return {label: self._run(label, encoded,
                                 [(i, float(m[label])) for i, m in enumerate(multipliers)],
                                 "confirm", seconds)
                for label in self.tasks}

    def evaluate(self, programs: Sequence[Program], centres: Sequence[dict] | None = None,
                 hurdles: Sequence[float | None] | None = None,
                 bars: Sequence[float | None] | None = None) -> list[Evaluation]:
        """Fitness and losses of each program; a blow-up is a result, not an exception.

        ``centres``: per program, where its step-size searches start (its parent's
        multipliers); ``hurdles``: per program, a fitness it must reach at its centre
        on the tuning seeds to be tuned (see :meth:`tuned_losses`); a program stopped
        there is scored on those seeds at its centre, and its ``reason`` says so. Both
        are ignored when the step size is fixed. ``bars``: per program, a fitness (or
        None); with ``confirm_seeds`` in the config, a program whose fitness reaches
        its bar is confirmed there (see :class:`EvaluatorConfig`).
        """
        results, losses = self._evaluate(programs, centres, hurdles)
        if bars is None or "confirm" not in self._seeds:
            return results
        chosen = [row for row, (result, bar) in enumerate(zip(results, bars))
                  if bar is not None and result.status == "ok"
                  and result.seeds == len(self.config.seeds) and result.fitness >= bar]
        if not chosen:
            return results
        seconds = np.zeros(len(chosen))
        held_out = self._confirmation_losses([programs[row] for row in chosen],
                                             [results[row].multipliers for row in chosen],
                                             seconds)
        share = len(self.config.confirm_seeds) / len(self.config.seeds)
        for index, row in enumerate(chosen):
            result = results[row]
            results[row] = self.evaluate_losses(
                {label: np.concatenate([losses[label][row], held_out[label][index]])
                 for label in self.tasks},
                seconds=result.seconds + float(seconds[index]), runs=result.runs + share,
                multipliers=result.multipliers)
        return results

    def _evaluate(self, programs, centres, hurdles) -> tuple[list[Evaluation], dict]:
        """:meth:`evaluate` before the confirmation, and the per-seed losses
        ``{task: (programs, seeds)}``."""
        stopped = frozenset()
        if self.tuned:
            losses, multipliers, seconds, runs, stopped = self.tuned_losses(
                programs, centres, hurdles=hurdles)
        else:
            losses, seconds = self.task_losses(programs)
            multipliers = {label: [1.0] * len(programs) for label in self.tasks}
            runs = np.ones(len(programs))
        tune = len(self._seeds["tune"])
        return [self.evaluate_losses({label: losses[label][row][:tune] if row in stopped
                                      else losses[label][row] for label in self.tasks},
                                     seconds=float(seconds[row]), runs=float(runs[row]),
                                     multipliers={label: multipliers[label][row]
                                                  for label in self.tasks},
                                     hurdle=hurdles[row] if row in stopped else None)
                for row in range(len(programs))], losses

    def evaluate_losses(self, losses: dict, seconds: float = 0.0, runs: float = 1.0,
                        multipliers: dict | None = None, hurdle: float | None = None
                        ) -> Evaluation:
        """The :class:`Evaluation` of one program from its per-seed losses per task (the
        leading seeds of the config, then its confirmation seeds; the reference is taken
        on the same ones).
        ``hurdle``: the hurdle the program stopped at, if it did."""
        reference = self.reference_losses()
        per_task, reasons, task_losses = {}, [], {}
        for label in self.tasks:
            values = np.asarray(losses[label])
            fitness, reason = task_fitness(values, reference[label][:values.size])
            per_task[label] = fitness
            task_losses[label] = float(np.mean(losses[label]))
            if reason:
                reasons.append(f"{label}: {reason}")
        total = suite_fitness(list(per_task.values()))
        seeds = int(np.asarray(next(iter(losses.values()))).size)
        if hurdle is not None and not reasons:
            note = (f"{STOPPED_AT_HURDLE}: {total:+.4f} at its centre on {seeds} seed(s), "
                    f"below {hurdle:+.4f}")
        else:
            note = "; ".join(reasons) or None
        return Evaluation(
            fitness=WORST_FITNESS if reasons else total, losses=task_losses,
            task_fitness=per_task, status="failed" if reasons else "ok",
            reason=note, seconds=seconds,
            multipliers=multipliers or {label: 1.0 for label in self.tasks}, runs=runs,
            seeds=seeds)

def centre_for(centres: dict | None, label: str) -> float | None:
    """Where a search on task ``label`` starts: ``centres[label]``, else the geometric
    mean of the other tasks' multipliers, else None (no centre: a wide first round).

    >>> centre_for({"vit": 4.0, "mlp": 1.0}, "vit"), centre_for({"vit": 4.0, "mlp": 1.0}, "x")
    (4.0, 2.0)
    >>> centre_for(None, "vit") is None
    True
    """
    if not centres:
        return None
    if centres.get(label):
        return float(centres[label])
    known = [float(v) for v in centres.values() if v and v > 0 and math.isfinite(v)]
    return float(np.exp(np.mean(np.log(known)))) if known else None


def _mean_loss(values: np.ndarray) -> float:
    """The mean over seeds; inf when any seed blew up."""
    values = np.asarray(values, np.float64)
    return float(np.mean(values)) if np.all(np.isfinite(values)) else math.inf
