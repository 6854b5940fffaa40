"""The measured simplification steps: changes that are kept when fitness does not suffer.

The exact steps of :mod:`programs.simplify` keep behaviour identical. These two steps
change behaviour a little, on purpose, and are judged by the fitness on the proxy tasks
(a :class:`~evaluators.suite.SuiteEvaluator`), as the paper's automatic simplification
was: a change is kept when the fitness moves by less than ``tolerance`` from the fitness
the program had when the measured steps began, either way (a change that *improves* the
fitness a lot makes another optimizer, not a simpler one; and since every change is
measured against the same starting fitness, the changes together stay within the
tolerance too).

1. ``measured: round constants``: each constant ``v``, in turn, is tried at 1, 2 and 3
   significant digits, of ``v`` or of ``1 - v`` (``0.899 -> 0.9``, ``0.9889 -> 0.99``),
   never moving ``v`` by more than 15% of ``|v|`` or of ``|1 - v|`` (an EMA rate must not
   become 1); the roundest value that keeps the fitness is kept, and then all the kept
   roundings are measured together.
2. ``measured: delete statements``: every live statement is tried deleted (where its
   target had a value before, that value is used) and replaced by each of its variable
   arguments (``x = f(a, b)`` becomes ``x = a``: later reads of ``x`` read ``a``). Of the
   candidates within the tolerance, the one whose fitness moves least is kept (this is
   simplification, not more search), dead code is removed, and the round repeats until
   no candidate qualifies. Candidates that are funcsim-equal
   to the current program are kept without an evaluation.

Every evaluation is counted and reported.

Example (a tiny task, so that it runs in seconds):
    >>> from evaluators.suite import EvaluatorConfig
    >>> from evaluators.tasks import get_task
    >>> from programs.parser import parse
    >>> from programs.printer import to_source
    >>> task = get_task("mlp", steps=10, hidden=8, train_size=256, val_size=128)
    >>> simplifier = MeasuredSimplifier(EvaluatorConfig(suite=[task], seeds=(0,)),
    ...                                 tolerance=0.05, delete=False)
    >>> p = parse("def train(w, g, m, lr):\\n    m = interp(g, m, 0.8993)\\n"
    ...           "    u = sign(m)\\n    s = lr * 0.0101\\n    u = u * s\\n    return u, m")
    >>> program, reports = simplifier(p)
    >>> print(to_source(program))
    def train(w, g, m, lr):
        m = interp(g, m, 0.9)
        u = sign(m)
        s = lr * 0.01
        u = u * s
        return u, m
    >>> reports[0].step, reports[0].status, simplifier.evaluations
    ('measured: round constants', 'applied', 5)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from programs.dataflow import liveness
from programs.funcsim import fingerprint
from programs.kinds import is_valid
from programs.printer import format_statement
from programs.program import Const, Program, Statement, Var
from programs.seed_programs import load_seed
from programs.simplify import APPLIED, SKIPPED, UNCHANGED, StepReport, report, \
    without_dead_slots

from .suite import EvaluatorConfig, SuiteEvaluator

DEFAULT_TOLERANCE = 0.005
"""The most the fitness may move for a measured change to be kept (fitness is relative to
AdamW's loss, so 0.005 is half a percent of the loss)."""


@dataclass
class MeasuredSimplifier:
    """The measured steps, as the ``measure`` argument of :func:`programs.simplify.simplify`.

    Attributes:
        config: what to evaluate on; its ``num_state_slots`` and ``max_length`` are set
            from the program.
        tolerance: the most the fitness may move (either way) for a change to be kept.
        round_constants: run the constant-rounding step.
        delete: run the statement-deletion step.
        max_rounds: most deletion rounds.
        centres: where the step-size searches start, ``{task: multiplier}`` (the
            multipliers a run found for the program); None starts at 1. Used when the
            config's step size is tuned.
    """

    config: EvaluatorConfig
    tolerance: float = DEFAULT_TOLERANCE
    round_constants: bool = True
    delete: bool = True
    max_rounds: int = 30
    centres: dict | None = None

    def __post_init__(self):
        self.evaluations = 0
        self._evaluator = None

    def __call__(self, program: Program) -> tuple[Program, list[StepReport]]:
        reference = load_seed(self.config.reference)
        self._slots = max(program.num_state_slots, reference.num_state_slots)
        self._evaluator = SuiteEvaluator(dataclasses.replace(
            self.config, num_state_slots=self._slots,
            max_length=max(len(program), len(reference), 8)))
        base = self.fitness([program])[0]
        if base is None:
            why = ["the program's fitness is not finite: nothing to compare against"]
            steps = [report(name, SKIPPED, program, program, why, "nothing to check")
                     for name in self._step_names()]
            return program, steps
        reports = []
        if self.round_constants:
            program, step_report = self._round_constants(program, base)
            reports.append(step_report)
        if self.delete:
            program, step_report = self._delete_statements(program, base)
            reports.append(step_report)
        return program, reports

    def _step_names(self):
        return [name for name, on in (("measured: round constants", self.round_constants),
                                      ("measured: delete statements", self.delete)) if on]

    def fitness(self, programs: list[Program]) -> list[float | None]:
        """Suite fitness of each program (None when a loss is not finite)."""
        self.evaluations += len(programs)
        results = self._evaluator.evaluate([pad_slots(p, self._slots) for p in programs],
                                           [self.centres] * len(programs))
        return [r.fitness if r.status == "ok" else None for r in results]

    def _keeps(self, base: float, fitness: float | None) -> bool:
        """Whether a change from fitness ``base`` to ``fitness`` is kept."""
        return fitness is not None and abs(fitness - base) <= self.tolerance

    def _verdict(self, base: float, fitness: float) -> str:
        return (f"fitness {base:+.4f} -> {fitness:+.4f} (change {fitness - base:+.4f}, "
                f"tolerance {self.tolerance})")

    # -- round constants -------------------------------------------------------------

    def _round_constants(self, program: Program, base: float):
        name = "measured: round constants"
        start, changes = program, []
        for index, position, value in _constants(program):
            candidates = [(rounded, _with_constant(program, index, position, rounded))
                          for rounded in round_values(value)]
            if not candidates:
                continue
            scores = self.fitness([p for _, p in candidates])
            for (rounded, candidate), score in zip(candidates, scores):
                if self._keeps(base, score):
                    changes.append(f"{value!r} -> {rounded!r} in "
                                   f"{format_statement(program.statements[index])}: "
                                   f"{self._verdict(base, score)}")
                    program = candidate
                    break
        if program == start:
            return program, report(name, UNCHANGED, start, program, [], "no change")
        final = self.fitness([program])[0]
        check = "no rounding kept" if final is None else self._verdict(base, final)
        if not self._keeps(base, final):
            # Interactions between roundings cost too much together: keep none.
            return start, report(name, SKIPPED, start, start,
                                 [*changes, "together the roundings cost too much: "
                                            "none kept"], check)
        return program, report(name, APPLIED, start, program, changes,
                               f"every rounding measured; all together: {check}")

    # -- delete statements -----------------------------------------------------------

    def _delete_statements(self, program: Program, base: float):
        name = "measured: delete statements"
        start, changes = program, []
        for _ in range(self.max_rounds):
            candidates = _deletions(program)
            if not candidates:
                break
            current = fingerprint(program)
            unique = {}
            for what, candidate in candidates:  # one evaluation per behaviour
                unique.setdefault(fingerprint(candidate), (what, candidate))
            if current in unique:
                what, program = unique[current]
                changes.append(f"{what}: funcsim-equal, no evaluation needed")
                continue
            candidates = list(unique.values())
            scores = self.fitness([p for _, p in candidates])
            # The change that matters least first (not the one that scores best: this
            # is simplification, not more search); then the shorter program.
            scored = [(abs(s - base), len(candidates[i][1]), i) for i, s in enumerate(scores)
                      if self._keeps(base, s)]
            if not scored:
                break
            _, _, best = min(scored)
            score = scores[best]
            what, program = candidates[best]
            changes.append(f"{what}: {self._verdict(base, score)}")
        if program == start:
            return program, report(name, UNCHANGED, start, program, [], "no change")
        return program, report(name, APPLIED, start, program, changes,
                               "each deletion measured on the proxy tasks")


MAX_ROUNDING = 0.15
"""A rounding may move a constant ``v`` by at most this share of ``|v|`` and of
``|1 - v|`` (so an EMA rate 0.9889 may become 0.99 but not 1.0)."""


def round_values(value: float) -> list[float]:
    """Rounder values near ``value``, roundest first: ``value`` or ``1 - value`` at 1, 2
    and 3 significant digits, moving ``value`` by at most :data:`MAX_ROUNDING`.

    Example:
        >>> round_values(0.899), round_values(0.9889), round_values(1.1)
        ([0.9], [0.99, 0.989], [])
    """
    limit = MAX_ROUNDING * min(abs(value), abs(1.0 - value))
    result = []
    for digits in (1, 2, 3):
        for rounded in (float(f"{value:.{digits}g}"),
                        1.0 - float(f"{1.0 - value:.{digits}g}")):
            rounded = float(f"{rounded:.12g}")
            if rounded != value and abs(rounded - value) <= limit and rounded not in result:
                result.append(rounded)
    return result


def pad_slots(program: Program, slots: int) -> Program:
    """``program`` with unused state slots added up to ``slots`` (same behaviour)."""
    taken = set(program.params) | {s.target for s in program.statements}
    extra = []
    while program.num_state_slots + len(extra) < slots:
        name = f"unused{len(extra) + 1}"
        while name in taken:
            name += "_"
        taken.add(name)
        extra.append(name)
    if not extra:
        return program
    params = (*program.params[:-1], *extra, program.learning_rate)
    return Program(params, program.statements, (*program.returns, *extra), program.name)


def _constants(program: Program):
    """``(statement index, argument position, value)`` of every live constant."""
    live = liveness(program).live_statements
    for index, statement in enumerate(program.statements):
        if index in live:
            for position, arg in enumerate(statement.args):
                if isinstance(arg, Const):
                    yield index, position, arg.value


def _with_constant(program: Program, index: int, position: int, value: float) -> Program:
    statement = program.statements[index]
    args = list(statement.args)
    args[position] = Const(value)
    statements = list(program.statements)
    statements[index] = Statement(statement.target, statement.op, tuple(args))
    return program.with_statements(statements)


def _deletions(program: Program) -> list[tuple[str, Program]]:
    """Valid programs with one live statement deleted or replaced by an argument."""
    program = without_dead_slots(program)
    candidates = []
    defined = set(program.params)
    for index, statement in enumerate(program.statements):
        shown = format_statement(statement)
        if statement.target in defined:
            candidates.append((f"deleted {shown}", _delete(program, index)))
        for name in dict.fromkeys(a.name for a in statement.args if isinstance(a, Var)):
            if name != statement.target:
                candidates.append((f"replaced {shown} by {statement.target} = {name}",
                                   _alias(program, index, name)))
        defined.add(statement.target)
    return [(what, without_dead_slots(p)) for what, p in candidates
            if p is not None and is_valid(p)]


def _delete(program: Program, index: int) -> Program:
    statements = list(program.statements)
    del statements[index]
    return program.with_statements(statements)


def _alias(program: Program, index: int, source: str) -> Program | None:
    """Statement ``index`` removed; reads of its target until it is reassigned read
    ``source`` instead (None when ``source`` is reassigned before such a read)."""
    target = program.statements[index].target
    statements = list(program.statements[:index])
    reading, source_changed = True, False
    for statement in program.statements[index + 1:]:
        if reading and target in statement.reads():
            if source_changed:
                return None
            statement = Statement(statement.target, statement.op, tuple(
                Var(source) if isinstance(a, Var) and a.name == target else a
                for a in statement.args))
        statements.append(statement)
        if statement.target == target:
            reading = False
        if statement.target == source:
            source_changed = True
    returns = list(program.returns)
    if reading:
        if source_changed and target in returns:
            return None
        returns = [source if name == target else name for name in returns]
    return program.with_statements(statements, returns)
