"""The ``lion-search`` command line: one console script, a subcommand per job.

This package is the command line; the engine it drives (controller, store, evolution,
breeding, workers, config, the rediscovery experiment) is the rest of ``search/`` and
never imports from here. Each subcommand lives in a module of this package and is
imported only when it runs, so ``lion-search check`` never imports jax or ray. Beside the
commands: ``progress`` (the live panel), ``program_ref``/``program_diff``/
``program_marks`` (programs named ``DIR:ID``, compared, marked), ``run_view``/
``run_series``/``report``/``report_plots`` (what the inspection commands read and draw). Bad input (a broken program, a missing
file, a bad argument) prints one line to stderr and exits with status 2; no traceback.

Example:
    $ lion-search check programs/seeds/adamw.py
    $ lion-search funcsim programs/seeds/lion.py programs/seeds/signum.py --json
"""

from __future__ import annotations

import argparse
import importlib
import sys

from programs.errors import ProgramError

USAGE_ERROR = 2


class UsageError(Exception):
    """Bad input that is not a program: a missing run, a bad config value, ..."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


# subcommand -> (module, help); the module has add_<name>_arguments(parser) and
# run_<name>(args) -> int
COMMANDS = {
    "check": ("search.cli.programs",
              "parse and validate a program file; show its canonical form and redundant "
              "statements"),
    "funcsim": ("search.cli.programs", "compare the behaviour of two programs"),
    "evaluate": ("search.cli.programs",
                 "train a program on the proxy tasks; its fitness against the AdamW warm "
                 "start"),
    "run": ("search.cli.run", "run a search (or --resume one)"),
    "rediscover": ("search.cli.rediscover",
                   "N seeded searches, each until its first Lion-family program or its "
                   "budget: the rate and the time to Lion"),
    "status": ("search.cli.run", "counters of a run, also while it runs"),
    "top": ("search.cli.inspection", "the best programs of a run as a table"),
    "show": ("search.cli.inspection",
             "one program of a run: marked source, simplified form, fitness per task, "
             "parent and mutation"),
    "lineage": ("search.cli.inspection",
                "a program's ancestors back to the warm start, with each mutation and "
                "fitness change"),
    "diff": ("search.cli.inspection",
             "two programs of a run side by side, and whether they behave the same"),
    "climb": ("search.cli.climb",
              "best fitness against search time, per run or per seed; two experiments "
              "compared seed by seed"),
    "mutations": ("search.cli.mutations",
                  "what each kind of mutation yielded: children, cache hits, evaluations, "
                  "children better than their parent"),
    "report": ("search.cli.report", "a static HTML report with plots, in DIR/report/"),
    "simplify": ("search.cli.simplify",
                 "simplify a program step by step (each step checked); is it Lion, with "
                 "which constants"),
    "export": ("search.cli.simplify",
               "write a program as an optax optimizer module (or a numpy step function)"),
    "bench": ("search.cli.bench", "benchmarks (programs, ...) printing JSON"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lion-search",
                     description="Evolve optimizer programs, inspect them, ship Lion.")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (module, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        getattr(importlib.import_module(module), f"add_{name}_arguments")(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        return getattr(module, f"run_{args.command}")(args) or 0
    except (ProgramError, UsageError) as err:
        print(f"lion-search {args.command}: {err}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"lion-search {args.command}: interrupted", file=sys.stderr)
        return 130

