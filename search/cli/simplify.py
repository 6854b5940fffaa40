"""Commands ``simplify`` and ``export``: a program's simplest form, and the program as code.

Example:
    $ lion-search simplify winner.py                 # the exact, funcsim-checked steps
    $ lion-search simplify winner.py --measure --json
    $ lion-search export winner.py -o winner_optax.py
    $ lion-search export winner.py --format python -o winner_step.py
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from programs.export import FORMATS

from .programs import seed_list

DEFAULT_TOLERANCE = 0.005  # evaluators.measured_simplification's; not imported (jax)


def add_simplify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("program", help="the program: a file, or DIR:ID of a run")
    parser.add_argument("--measure", action="store_true",
                        help="also the measured steps (round constants, delete statements "
                             "whose removal moves the fitness less than --tolerance); these "
                             "train the program on the proxy tasks")
    parser.add_argument("--tasks", help="comma-separated tasks for --measure "
                                        "(default: the CPU suite)")
    parser.add_argument("--seeds", type=seed_list, default="0,1",
                        help="training seeds for --measure")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help=f"largest fitness change a measured step may cause "
                             f"(default {DEFAULT_TOLERANCE})")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run_simplify(args) -> int:
    from programs.simplify import simplify

    from .program_ref import load_program_ref

    program = load_program_ref(args.program)
    measure = _measured_simplifier(args) if args.measure else None
    result = simplify(program, measure=measure)
    report = simplify_report(result)
    if measure is not None:
        report["evaluations"] = measure.evaluations
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(_text(args.program, result, report))
    return 0


def simplify_report(result) -> dict:
    """What ``simplify --json`` prints for a :class:`~programs.simplify.Simplification`."""
    from programs.printer import to_source
    from programs.recognize import recognize_lion

    match = recognize_lion(result.program)
    report = {
        "source": to_source(result.program),
        "statements": len(result.program),
        "state_slots": result.program.num_state_slots,
        "is_lion": match is not None,
        "original": {"statements": len(result.original),
                     "state_slots": result.original.num_state_slots},
        "steps": [step.to_dict() for step in result.steps],
    }
    if match is not None:
        report["constants"] = match.as_dict()
    else:
        from programs.lion_core import recognize_lion_core

        core = recognize_lion_core(result.program)
        report["lion_core"] = None if core is None else {
            "b1": core.b1, "b2": core.b2, "weight_decay": core.weight_decay,
            "extras": list(core.extras)}
    return report


def _measured_simplifier(args):
    from evaluators.measured_simplification import MeasuredSimplifier
    from evaluators.suite import EvaluatorConfig, resolve_suite

    from . import UsageError
    from .program_ref import program_ref_multipliers

    try:
        suite = resolve_suite(args.tasks) if args.tasks else "cpu"
        config = EvaluatorConfig(suite=suite, seeds=args.seeds, batch_size=4)
    except ValueError as err:
        raise UsageError(str(err).splitlines()[0]) from None
    if not args.tolerance >= 0:
        raise UsageError(f"--tolerance must be >= 0, not {args.tolerance}")
    return MeasuredSimplifier(config, tolerance=args.tolerance,
                              centres=program_ref_multipliers(args.program))


def _text(name: str, result, report: dict) -> str:
    before, after = result.original, result.program
    lines = [f"{name}: {len(before)} statements, {_slots(before.num_state_slots)} -> "
             f"{len(after)} statements, {_slots(after.num_state_slots)}"]
    for number, step in enumerate(result.steps, 1):
        check = f": {step.check}" if step.status in ("applied", "rejected") else ""
        lines.append(f"{number:>2}. {step.step} [{step.status}]{check}")
        lines += [f"      {change}" for change in step.changes]
    lines += ["", report["source"], ""]
    if report["is_lion"]:
        constants = ", ".join(f"{k}={v:g}" for k, v in report["constants"].items())
        lines.append(f"Lion-family: yes ({constants})")
    elif report.get("lion_core"):
        core = report["lion_core"]
        decay = "-" if core["weight_decay"] is None else f"{core['weight_decay']:g}"
        lines.append(f"Lion-family: Lion core with extras (b1={core['b1']:g}, "
                     f"b2={core['b2']:g}, weight_decay={decay}); extras: "
                     + "; ".join(core["extras"]))
    else:
        lines.append("Lion-family: no")
    if "evaluations" in report:
        lines.append(f"evaluations: {report['evaluations']}")
    return "\n".join(lines)


def _slots(count: int) -> str:
    return f"{count} state slot{'' if count == 1 else 's'}"


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("program", help="the program: a file, or DIR:ID of a run")
    parser.add_argument("--format", choices=FORMATS, default="optax",
                        help="optax: a module with optimizer(schedule=None) returning an "
                             "optax GradientTransformation; python: a numpy step function")
    parser.add_argument("-o", "--output", required=True, help="the module file to write")
    parser.add_argument("--simplify", action="store_true",
                        help="export the simplified program (exact steps only)")


def run_export(args) -> int:
    from programs.export import export_module
    from programs.simplify import simplify

    from . import UsageError
    from .program_ref import load_program_ref, program_ref_multipliers

    program = load_program_ref(args.program)
    multipliers = program_ref_multipliers(args.program)
    output = Path(args.output)
    if output.is_dir():
        raise UsageError(f"{output} is a directory; give the module file to write")
    if not output.parent.is_dir():
        raise UsageError(f"{output.parent} does not exist")
    if args.simplify:
        program = simplify(program).program
    text = export_module(program, args.format,
                         title=f"An optimizer exported from the lion-search program "
                               f"{args.program}.", multipliers=multipliers)
    try:
        write_atomically(output, text)
    except OSError as err:
        raise UsageError(f"cannot write {output}: {err.strerror or err}") from None
    steps = "" if not multipliers else ", step multipliers " + ", ".join(
        f"{task} {'-' if m is None else f'{m:.3g}'}" for task, m in multipliers.items())
    print(f"wrote {output} ({args.format}{steps})")
    return 0


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
