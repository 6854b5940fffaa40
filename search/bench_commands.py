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
}


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=sorted(BENCHMARKS), help="which benchmark")
    parser.add_argument("--json", action="store_true",
                        help="print only the JSON result (the default prints it indented)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")


def run_bench(args) -> int:
    import importlib

    module = importlib.import_module(BENCHMARKS[args.what])
    result = module.run_benchmark(quick=args.quick)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0
