"""Commands on single program files: ``check``, ``funcsim`` and ``evaluate``.

Example:
    $ lion-search check programs/seeds/adamw.py --json
    {"source": "def train(w, g, m, v, lr): ...", "redundant": [], ...}
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the program: a file holding one `def train(...)`, "
                                     "or DIR:ID of a run")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run_check(args) -> int:
    report = check_report(args.file)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    redundant = {entry["index"] for entry in report["redundant"]}
    live = ", ".join(report["live_state_slots"]) or "none"
    print(f"{args.file}: valid; {report['statements']} statements, "
          f"{len(redundant)} redundant; live state slots: {live}")
    lines = report["source"].splitlines()
    width = max(len(line) for line in lines)
    print(lines[0])
    for index, line in enumerate(lines[1:-1]):
        mark = "  # redundant" if index in redundant else ""
        print(f"{line:<{width}}{mark}" if mark else line)
    print(lines[-1])
    if report["redundant"]:
        print("redundant statements:")
        for entry in report["redundant"]:
            print(f"  line {entry['line']}: {entry['source']}")
    return 0


def check_report(path: str) -> dict:
    """What ``check --json`` prints for the program file at ``path``."""
    from programs.dataflow import liveness
    from programs.funcsim import fingerprint
    from programs.hashing import structural_hash
    from programs.kinds import infer_kinds
    from programs.printer import format_statement, to_source

    from .program_ref import load_program_ref

    program = load_program_ref(path)
    kinds = infer_kinds(program, path)
    info = liveness(program)
    redundant = [{"index": i, "line": s.line, "source": format_statement(s)}
                 for i, s in enumerate(program.statements) if i not in info.live_statements]
    return {
        "file": path,
        "source": to_source(program),
        "statements": len(program),
        "redundant": redundant,
        "state_slots": list(program.state_slots),
        "live_state_slots": [program.state_slots[k] for k in sorted(info.live_slots)],
        "kinds": {s.target: kind for s, kind in zip(program.statements, kinds)},
        "structural_hash": structural_hash(program),
        "fingerprint": fingerprint(program),
    }


def add_funcsim_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", help="first program: a file, or DIR:ID of a run")
    parser.add_argument("b", help="second program: a file, or DIR:ID of a run")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run_funcsim(args) -> int:
    from programs.funcsim import behaviour, behaviour_similarity, fingerprint

    from .program_ref import load_program_ref

    a, b = load_program_ref(args.a), load_program_ref(args.b)
    fingerprints = [fingerprint(a), fingerprint(b)]
    result = {"similarity": behaviour_similarity(behaviour(a), behaviour(b)),
              "match": fingerprints[0] == fingerprints[1],
              "fingerprints": fingerprints}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        verdict = "same behaviour" if result["match"] else "different behaviour"
        print(f"similarity {result['similarity']:.4f}: {verdict}")
    return 0


SIZES = {"proxy": "proxy", "meta": "meta10", "meta10": "meta10", "meta100": "meta100"}


def seed_list(text: str) -> tuple[int, ...]:
    """The value of a ``--seeds 0,1`` option: one or more integer seeds.

    >>> seed_list("0, 1")
    (0, 1)
    >>> seed_list("0,x")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected integers like 0,1, not '0,x'
    """
    try:
        seeds = tuple(int(seed) for seed in text.split(",") if seed.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers like 0,1, not {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError("expected at least one seed, like 0,1")
    return seeds


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the program: a file, or DIR:ID of a run")
    parser.add_argument("--tasks", help="comma-separated task names (default: the CPU suite)")
    parser.add_argument("--size", choices=sorted(SIZES), default="proxy",
                        help="task size: proxy, or meta (= meta10) / meta100 for "
                             "meta-validation")
    parser.add_argument("--seeds", type=seed_list, default="0,1",
                        help="comma-separated training seeds")
    parser.add_argument("--device", choices=("cpu", "gpu", "tpu"),
                        help="where to evaluate (default: jax's default device)")
    parser.add_argument("--step-size", choices=("tuned", "fixed"), default="tuned",
                        help="score each task at the program's best step multiplier "
                             "(tuned, the search's fitness) or as written (fixed)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run_evaluate(args) -> int:
    from evaluators.suite import EvaluatorConfig, SuiteEvaluator, resolve_suite
    from evaluators.tasks import SUITES

    from . import UsageError
    from .program_ref import load_program_ref, program_ref_multipliers

    program = load_program_ref(args.file)
    size, seeds = SIZES[args.size], args.seeds
    try:
        if args.tasks:
            suite = tuple((name, size) for name, _ in resolve_suite(args.tasks))
        else:
            suite = tuple((name, size) for name, _ in SUITES["cpu"])
        config = EvaluatorConfig(suite=suite, seeds=seeds, batch_size=1,
                                 num_state_slots=program.num_state_slots,
                                 max_length=max(len(program), 32), device=args.device,
                                 step_size=args.step_size)
        evaluator = SuiteEvaluator(config)
    except (ValueError, RuntimeError) as err:
        raise UsageError(str(err).splitlines()[0]) from None
    # A program of a run starts its searches at the multipliers the run found for it.
    result = evaluator.evaluate([program], [program_ref_multipliers(args.file)])[0]
    report = {"fitness": result.fitness, "losses": result.losses,
              "task_fitness": result.task_fitness, "status": result.status,
              "reason": result.reason, "seconds": round(result.seconds, 3),
              "step_size": args.step_size, "multipliers": result.multipliers,
              "reference": {label: float(np.mean(values)) for label, values
                            in evaluator.reference_losses().items()},
              "reference_multipliers": evaluator.reference_multipliers,
              "seeds": list(seeds), "size": size}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{args.file}: fitness {result.fitness:+.4f} ({result.status}"
          f"{': ' + result.reason if result.reason else ''}), step size {args.step_size}")
    for label, loss in result.losses.items():
        print(f"  {label:<16} loss {loss:.4f} at step x{_multiplier(result.multipliers[label])}"
              f"  (AdamW {report['reference'][label]:.4f} at x"
              f"{_multiplier(evaluator.reference_multipliers[label])})"
              f"  fitness {result.task_fitness[label]:+.4f}")
    return 0


def _multiplier(value) -> str:
    return "-" if value is None else f"{value:.3g}"
