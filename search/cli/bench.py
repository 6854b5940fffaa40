"""``lion-search bench WHAT``: the project's benchmarks, each printing JSON.

Example:
    $ lion-search bench programs
"""

from __future__ import annotations

import argparse
import json

BENCHMARKS = {
    "programs": "programs.benchmark",
    "eval": "evaluators.benchmark",
    "search": "search.benchmark",
    "landscape": "evaluators.landscape",
}


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=sorted(BENCHMARKS), help="which benchmark")
    parser.add_argument("--json", action="store_true",
                        help="print only the JSON result (the default prints it indented)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    evaluator = parser.add_argument_group("bench eval and bench landscape")
    evaluator.add_argument("--suite", help="suite or tasks (default: cpu)")
    evaluator.add_argument("--seeds", help="eval: comma-separated training seeds (default: "
                           "0,1); landscape: how many paired seeds (default: 8)")
    evaluator.add_argument("--batch-size", type=int,
                           help="programs per compiled call (default: 4 on CPU, 32 on GPU)")
    evaluator.add_argument("--device", choices=("cpu", "gpu", "tpu"),
                           help="where to evaluate (default: jax's default device)")
    evaluator.add_argument("--program-axis", choices=("map", "vmap"),
                           help="programs one after another (map) or vmapped (default: "
                                "map on CPU, vmap on accelerators)")

EVAL_OPTIONS = ("suite", "seeds", "batch_size", "device", "program_axis")
LANDSCAPE_OPTIONS = ("suite", "seeds", "batch_size", "device")


def run_bench(args) -> int:
    import importlib

    from . import UsageError

    options = {name: getattr(args, name) for name in EVAL_OPTIONS
               if getattr(args, name) is not None}
    allowed = {"eval": EVAL_OPTIONS, "landscape": LANDSCAPE_OPTIONS}.get(args.what, ())
    wrong = [name for name in options if name not in allowed]
    if wrong:
        flags = ", ".join("--" + name.replace("_", "-") for name in wrong)
        raise UsageError(f"{flags}: not an option of `bench {args.what}`")
    if "seeds" in options and args.what == "landscape":
        try:
            options["seeds"] = int(options["seeds"])
        except ValueError:
            raise UsageError(f"--seeds {args.seeds}: expected a count like 8") from None
        if options["seeds"] < 2:
            raise UsageError("--seeds must be >= 2 (paired standard errors need two)")
    elif "seeds" in options:
        try:
            options["seeds"] = tuple(int(seed) for seed in options["seeds"].split(","))
        except ValueError:
            raise UsageError(f"--seeds {args.seeds}: expected integers like 0,1") from None
    if options.get("batch_size", 1) < 1:
        raise UsageError("--batch-size must be >= 1")
    module = importlib.import_module(BENCHMARKS[args.what])
    try:
        result = module.run_benchmark(quick=args.quick, **options)
    except (ValueError, RuntimeError) as err:  # an unknown suite, a device not present
        raise UsageError(str(err).splitlines()[0]) from None
    if args.json:
        print(json.dumps(result))
    elif hasattr(module, "format_table"):
        print(module.format_table(result))
    else:
        print(json.dumps(result, indent=2))
    return 0
