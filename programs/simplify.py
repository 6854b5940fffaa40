"""Simplification: from an evolved program to its shortest readable form, every step checked.

:func:`simplify` runs a pipeline of steps. Each one proposes a rewritten program and is
reported (:class:`StepReport`: what changed and why it is safe); a rewrite that fails its
check is not applied and is reported as rejected.

1. ``redundancy``: statements no output needs across steps, and state slots whose
   incoming value never reaches the update, are removed (:mod:`programs.dataflow`).
2. ``local rewrites``: exact rewrites of one statement at a time, each checked
   (:mod:`programs.local_rewrites`): constants fold (``exp(-0.802)`` is a number),
   identities go, ``x / sqrt(x * x)`` is ``sign(x)``, chains of ``interp`` with constant
   weights are one ``interp``. They apply whether or not the canonical form below wins.
3. ``algebra``: the outputs become sympy expressions of the inputs, are put in canonical
   form (constants folded, identities dropped, chains of ``interp`` and linear
   combinations collapsed, ``x / |x|`` recognised as ``sign(x)``; see
   :mod:`programs.algebra`) and re-emitted as a program (:mod:`programs.emit`). Kept only
   when it is no longer than before.
4. ``state slots``: slots that are always zero, slots that carry the same quantity, and
   linear slots rewritten in the fewest slots (:mod:`programs.state_space`).
5. optional measured steps, passed in as ``measure`` (they cost evaluations, so they live
   in :mod:`evaluators.measured_simplification`); then steps 1-4 again;
6. ``names``: readable names and a natural order (:mod:`programs.naming`).

The exact steps (1-4, 6) are checked funcsim-equal (:mod:`programs.equivalence`, which
also says when equality holds only up to the safe-division epsilon).

Example:
    >>> from programs.parser import parse
    >>> from programs.printer import to_source
    >>> p = parse('''def train(w, g, m, v, lr):
    ...     v = interp(g, v, 0.5)
    ...     a = g * 0.1
    ...     b = m * 0.9
    ...     c = a + b
    ...     c2 = c * c
    ...     r = sqrt(c2)
    ...     u = c / r
    ...     k = lr * 2.0
    ...     k = k * 0.5
    ...     u = u * k
    ...     m = interp(g, m, 0.99)
    ...     return u, m, v''')
    >>> result = simplify(p)
    >>> print(to_source(result.program))
    def train(w, g, momentum, lr):
        blend = interp(g, momentum, 0.9)
        direction = sign(blend)
        update = direction * lr
        momentum = interp(g, momentum, 0.99)
        return update, momentum
    >>> [(s.step, s.status) for s in result.steps]
    [('redundancy', 'applied'), ('local rewrites', 'applied'), ('algebra', 'unchanged'), ('state slots', 'unchanged'), ('names', 'applied')]
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable

from .algebra import AlgebraError, canonicalize, to_sympy
from .dataflow import liveness, remove_redundancy
from .emit import EmitError, emit
from .equivalence import compare
from .errors import ProgramError
from .hashing import structural_hash
from .kinds import check
from .local_rewrites import rewrite_locally
from .naming import readable
from .printer import format_statement, to_source
from .program import Const, NamedConst, Program
from .state_space import reduce_slots

APPLIED, UNCHANGED, REJECTED, SKIPPED = "applied", "unchanged", "rejected", "skipped"


@dataclass(frozen=True)
class StepReport:
    """One step of a simplification.

    Attributes:
        step: its name (``redundancy``, ``local rewrites``, ``algebra``, ``state slots``,
            ``names``, or a measured step).
        status: ``applied``, ``unchanged``, ``rejected`` (its check failed) or
            ``skipped`` (it could not run, or its result was not simpler).
        changes: what changed (or why it was rejected or skipped), one line each.
        check: why it is safe: a funcsim verdict, or a fitness comparison.
        statements: statement counts before and after.
        state_slots: state slot counts before and after.
        source: the program after the step.
    """

    step: str
    status: str
    changes: tuple[str, ...]
    check: str
    statements: tuple[int, int]
    state_slots: tuple[int, int]
    source: str

    def to_dict(self) -> dict:
        return {"step": self.step, "status": self.status, "changes": list(self.changes),
                "check": self.check, "statements": list(self.statements),
                "state_slots": list(self.state_slots), "source": self.source}


@dataclass(frozen=True)
class Simplification:
    """The result of :func:`simplify`: the final program and every step's report."""

    original: Program
    program: Program
    steps: tuple[StepReport, ...]


class NotSimpler(Exception):
    """A step's result is valid but no simpler: skip it, saying why."""


Rewrite = Callable[[Program], "tuple[Program, list[str]]"]
Measure = Callable[[Program], "tuple[Program, list[StepReport]]"]


def report(step, status, before: Program, after: Program, changes, check="") -> StepReport:
    """A :class:`StepReport` of a step from ``before`` to ``after``."""
    return StepReport(step, status, tuple(changes), check, (len(before), len(after)),
                      (before.num_state_slots, after.num_state_slots), to_source(after))


def checked_step(name: str, program: Program, rewrite: Rewrite) -> tuple[Program, StepReport]:
    """Run one exact rewrite and keep its result only if it is funcsim-equal."""
    try:
        candidate, changes = rewrite(program)
    except (AlgebraError, EmitError, NotSimpler) as err:
        return program, report(name, SKIPPED, program, program, [str(err)], "nothing to check")
    except Exception as err:  # sympy gave up on an odd program: skip, never crash
        return program, report(name, SKIPPED, program, program,
                               [f"the algebra failed: {type(err).__name__}: {err}"[:300]],
                               "nothing to check")
    if candidate == program:
        return program, report(name, UNCHANGED, program, program, [], "no change")
    try:
        check(candidate)
    except ProgramError as err:
        return program, report(name, REJECTED, program, program,
                               [f"the rewritten program is not valid: {err.reason}"],
                               "abstract execution")
    verdict = compare(program, candidate)
    if not verdict.equal:
        return program, report(name, REJECTED, program, program,
                               [*changes, "rejected: the rewritten program behaves differently"],
                               verdict.verdict)
    return candidate, report(name, APPLIED, program, candidate, changes, verdict.verdict)


# ---------------------------------------------------------------------------------------
# The exact steps.

def without_dead_slots(program: Program) -> Program:
    """``program`` without dead statements and without the state slots the update never
    reads (across steps); the remaining slots keep their order."""
    program = remove_redundancy(program)
    live = liveness(program).live_slots
    keep = [k for k in range(program.num_state_slots) if k in live]
    params = (program.weight, program.gradient, *(program.state_slots[k] for k in keep),
              program.learning_rate)
    returns = (program.returns[0], *(program.returns[1 + k] for k in keep))
    return Program(params, program.statements, returns, program.name)


def redundancy_step(program: Program) -> tuple[Program, list[str]]:
    """Dead statements and dead state slots removed."""
    result = without_dead_slots(program)
    info = liveness(program)
    changes = [f"removed dead statement{_at(s)}: {format_statement(s)}"
               for i, s in enumerate(program.statements) if i not in info.live_statements]
    changes += [f"dropped dead state slot '{name}' (its incoming value never reaches the "
                f"update)" for k, name in enumerate(program.state_slots)
                if k not in info.live_slots]
    return result, changes


def local_rewrites_step(program: Program) -> tuple[Program, list[str]]:
    """Exact one-statement rewrites (:mod:`programs.local_rewrites`), each funcsim-checked
    on its own, so that one that fails costs only itself."""
    return rewrite_locally(program, accept=lambda before, after: compare(before, after).equal)


def algebra_step(program: Program) -> tuple[Program, list[str]]:
    """The program re-emitted from the canonical form of its outputs."""
    notes: list[str] = []
    candidate = emit(canonicalize(to_sympy(program), notes))
    if len(candidate) > len(program):
        raise NotSimpler(f"the canonical form has {len(candidate)} statements, more than "
                         f"{len(program)}: kept the program")
    if structural_hash(candidate) == structural_hash(program):
        return program, []  # the same expressions, other names or order: nothing to do
    return candidate, _describe(program, candidate, notes)


def state_slots_step(program: Program) -> tuple[Program, list[str]]:
    """The program in fewer state slots, where that is exact."""
    reduced, notes = reduce_slots(canonicalize(to_sympy(program)))
    if not notes:
        return program, []
    candidate = emit(canonicalize(reduced))
    if candidate.num_state_slots == program.num_state_slots and len(candidate) > len(program):
        raise NotSimpler(f"in {candidate.num_state_slots} slots the program has "
                         f"{len(candidate)} statements, more than {len(program)}: kept it "
                         f"({'; '.join(notes)})")
    return candidate, notes


def names_step(program: Program) -> tuple[Program, list[str]]:
    """Readable names and a natural order."""
    candidate = readable(program)
    changes = []
    renamed = [f"{a} -> {b}" for a, b in zip(program.state_slots, candidate.state_slots)
               if a != b]
    if renamed:
        changes.append("state slots renamed: " + ", ".join(renamed))
    if candidate != program:
        changes.append("statements named after what they compute, in the order they are "
                       "needed (update first, then the new state)")
    return candidate, changes


EXACT_STEPS: tuple[tuple[str, Rewrite], ...] = (
    ("redundancy", redundancy_step),
    ("local rewrites", local_rewrites_step),
    ("algebra", algebra_step),
    ("state slots", state_slots_step),
)


def exact_steps(program: Program, suffix: str = "") -> tuple[Program, list[StepReport]]:
    """Steps 1-4 (redundancy, local rewrites, algebra, state slots), each checked."""
    reports = []
    for name, rewrite in EXACT_STEPS:
        program, step_report = checked_step(name + suffix, program, rewrite)
        reports.append(step_report)
    if any(r.status == APPLIED and r.step.startswith("state slots") for r in reports):
        # Fewer slots can make more algebra possible (sign(m + v) with v = m is sign(m)).
        program, step_report = checked_step("algebra" + suffix, program, algebra_step)
        reports.append(step_report)
    return program, reports


def simplify(program: Program, measure: Measure | None = None,
             names: bool = True) -> Simplification:
    """The simplified program and the report of every step.

    Args:
        program: a valid program (raises :class:`~programs.errors.ProgramError` if not).
        measure: optional measured steps, ``measure(program) -> (program, reports)``,
            run after the exact steps; the exact steps then run again.
        names: give readable names and a natural order at the end.
    """
    original = check(program)
    current, steps = exact_steps(original)
    if measure is not None:
        measured, reports = measure(current)
        steps += reports
        if measured != current:
            current, more = exact_steps(measured, " (after measured steps)")
            steps += more
    if names:
        current, step_report = checked_step("names", current, names_step)
        steps.append(step_report)
    return Simplification(original, current, tuple(steps))


# ---------------------------------------------------------------------------------------
# Describing an algebra step.

_IDENTITIES = {"mul": 1.0, "div": 1.0, "add": 0.0, "sub": 0.0, "power": 1.0}


def _describe(before: Program, after: Program, notes: list[str]) -> list[str]:
    changes = []
    live = liveness(before).live_statements
    statements = [s for i, s in enumerate(before.statements) if i in live]
    folded = [s for s in statements if all(isinstance(a, (Const, NamedConst)) for a in s.args)]
    if folded:
        changes.append(f"folded {len(folded)} constant statement(s): " +
                       "; ".join(format_statement(s) for s in folded))
    identities = [s for s in statements if _is_identity(s)]
    if identities:
        changes.append(f"dropped {len(identities)} identity op(s): " +
                       "; ".join(format_statement(s) for s in identities))
    for note, count in Counter(notes).items():
        changes.append(note + (f" ({count} places)" if count > 1 else ""))
    ops_before = Counter(s.op for s in statements)
    ops_after = Counter(s.op for s in after.statements)
    linear = ("interp", "add", "sub", "mul")
    if sum(ops_after[o] for o in linear) < sum(ops_before[o] for o in linear):
        interps = [format_statement(s).split(" = ", 1)[1] for s in after.statements
                   if s.op == "interp"]
        changes.append("linear combinations collapsed (chains of interp / add / mul with "
                       "constant weights are one interp)" +
                       (": now " + ", ".join(interps) if interps else ""))
    diff = [f"{op} {ops_before[op]} -> {ops_after[op]}"
            for op in sorted(set(ops_before) | set(ops_after)) if ops_before[op] != ops_after[op]]
    if diff:
        changes.append("ops: " + ", ".join(diff))
    changes.append(f"{len(statements)} live statements -> {len(after)}" +
                   (" (no shorter: the canonical form, its terms grouped as the algebra "
                    "writes them)" if len(after) == len(statements) else ""))
    return changes


def _is_identity(statement) -> bool:
    if statement.op == "interp" and isinstance(statement.args[2], Const):
        return statement.args[2].value in (0.0, 1.0)
    unit = _IDENTITIES.get(statement.op)
    if unit is None:
        return False
    args = statement.args
    positions = (0, 1) if statement.op in ("mul", "add") else (1,)
    return any(isinstance(args[p], Const) and args[p].value == unit for p in positions)


def _at(statement) -> str:
    return f" (line {statement.line})" if statement.line is not None else ""

