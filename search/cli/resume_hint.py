"""The command line that resumes a run or an experiment, as it was started.

A resume is refused unless its config matches the stored one, so the hint printed when
a search stops early repeats the config, every ``--set`` override and the options given.

Example:
    >>> import argparse
    >>> args = argparse.Namespace(config="rung3.yaml", seeds=5, out="runs/r3", budget_s=None,
    ...     set=["hurdle_margin=0.05", "evaluator.seeds=[0, 1]"], address=None)
    >>> print(resume_command("rediscover", args, ("seeds", "out", "budget_s", "address")))
    lion-search rediscover rung3.yaml --seeds 5 --out runs/r3 --set hurdle_margin=0.05 --set 'evaluator.seeds=[0, 1]' --resume
"""

from __future__ import annotations

import shlex


def resume_command(verb: str, args, options: tuple[str, ...]) -> str:
    """``lion-search VERB CONFIG``, the ``options`` (argparse destinations) that were
    given, the ``--set`` overrides, then ``--resume``; quoted for a shell."""
    words = ["lion-search", verb, str(args.config)]
    for dest in options:
        value = getattr(args, dest)
        if value is not None:
            words += [f"--{dest.replace('_', '-')}",
                      f"{value:g}" if isinstance(value, float) else str(value)]
    for override in args.set:
        words += ["--set", override]
    return shlex.join(words + ["--resume"])
