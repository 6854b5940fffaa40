"""``lion-search run`` and ``lion-search status``.

Example:
    $ lion-search run configs/quickstart.yaml --out runs/quick
    $ lion-search status runs/quick --json
"""

from __future__ import annotations

import argparse
import json
import sys

from .resume_hint import resume_command

# The options a resume repeats (argparse destinations), besides the config and --set.
RESUMED_OPTIONS = ("out", "address")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="YAML search config (see configs/)")
    parser.add_argument("--out", required=True, help="run directory (created)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out (after a crash or Ctrl-C)")
    parser.add_argument("--address", help="join an existing Ray cluster at this address")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set stop.max_programs=500")
    parser.add_argument("--dashboard", action="store_true", help="start Ray's dashboard")


def run_run(args) -> int:
    from . import UsageError
    from ..config import ConfigError, config_to_dict, load_config
    from ..warm_start import warm_start_program
    from ..store import RunStore, StoreError

    try:
        config = load_config(args.config, args.set)
    except ConfigError as err:
        raise UsageError(str(err)) from None
    # Before Ray starts: a wrong warm start fails at once (a resume reads it too).
    warm_start_program(config.warm_start, None if args.resume else config.evaluator.max_length)
    try:
        if args.resume:
            store = RunStore.open(args.out)
            _check_resumable(store, config, config_to_dict)
        else:
            RunStore.check_new(args.out)  # before Ray starts: a wrong --out fails at once
            store = None
    except StoreError as err:
        raise UsageError(str(err)) from None
    return _run(args, config, store)


def _check_resumable(store, config, to_dict) -> None:
    """Refuse ``config`` unless it equals the run's own but for the operational keys."""
    from . import UsageError
    from ..config import as_it_ran
    from ..controller import OPERATIONAL_KEYS

    stored, given = as_it_ran(store.config()), to_dict(config)
    for key in sorted(set(stored) | set(given)):
        if key not in OPERATIONAL_KEYS and stored.get(key) != given.get(key):
            raise UsageError(f"{store.directory}: the config's '{key}' differs from the run's "
                             f"({given.get(key)!r} vs {stored.get(key)!r}); resume with the "
                             "run's config")


def _run(args, config, store) -> int:
    from . import UsageError
    from ..controller import EvaluatorFailure, Search
    from .progress import Budgets, Progress
    from ..store import StoreError
    from ..workers import DeviceError, plan_actors

    address = args.address or config.ray.address
    started_ray = address is None

    def log(message):
        print(message, flush=True)

    progress = Progress(budgets=Budgets.from_stop(config.stop))  # the run's totals
    try:
        start_ray(address, args.dashboard or config.ray.dashboard)
        import ray  # after start_ray: Ray reads its auth and local-only settings on import

        try:
            try:
                # Before any file is written: the cluster must have the evaluator's device.
                plan_actors(ray.cluster_resources(), config.workers.actors,
                            config.workers.gpus_per_actor, config.evaluator.device)
                if store is None:
                    search = Search.start(config, args.out, progress=progress, log=log)
                else:
                    search = Search.resume(store, config, progress=progress, log=log)
            except DeviceError as err:
                raise UsageError(f"{args.config}: {err}; use --set evaluator.device=cpu, "
                                 "or --address a cluster with GPUs") from None
            except StoreError as err:
                raise UsageError(str(err)) from None
            try:
                reason = search.run()
            except EvaluatorFailure as err:
                progress.close()
                print(f"lion-search run: {err}. Nothing evaluated is lost; mend the cause "
                      f"and resume with: {resume_command('run', args, RESUMED_OPTIONS)}",
                      file=sys.stderr)
                return 1
        finally:
            if started_ray:
                ray.shutdown()
    finally:
        progress.close()
    _print_summary(search, reason, resume_command("run", args, RESUMED_OPTIONS))
    return 130 if reason == "interrupted" else 0


def start_ray(address: str | None, dashboard: bool) -> None:
    """Join the cluster at ``address``, or start a loopback-only local Ray instance (None);
    a cluster that cannot be joined is a :class:`~search.cli.UsageError` (one line)."""
    from . import UsageError
    from ..ray_cluster import ClusterError, start

    try:
        start(address, dashboard)
    except ClusterError as err:
        raise UsageError(str(err)) from None


def _print_summary(search, reason: str, resume: str) -> None:
    from programs.printer import to_source
    from programs.recognize import recognize_lion
    from programs.simplify import simplify

    counts = search.store.counts()
    print(f"stopped: {reason}. {counts['programs']} programs, {counts['evaluations']} "
          f"evaluations, cache-hit rate {counts['cache_hit_rate']:.1%}, redundant "
          f"statements {counts['redundant_share']:.1%}, {search.elapsed():.0f} s")
    if reason == "interrupted":
        print(f"resume with: {resume}")
    tops = search.store.top_programs(search.config.show_top)
    for rank, top in enumerate(tops, 1):
        program = search.breeder.program(top["program"])
        losses = ", ".join(f"{k} {v:.4f}" for k, v in top["losses"].items())
        print(f"\n#{rank} program {top['program']}: fitness {top['fitness']:+.4f} ({losses})")
        print(to_source(program))
        simplified = simplify(program).program
        lion = recognize_lion(simplified)
        print("simplified" + (f" (Lion-family: {lion.as_dict()})" if lion else "") + ":")
        print(to_source(simplified))
    if search.first_lion:
        first = search.first_lion
        print(f"\nfirst Lion-family program: {first['program']}, after "
              f"{first['evaluations']} evaluations and {first['elapsed_s']:.0f} s")
    meta_suite = search.config.meta_validation.suite
    best_meta = search.store.top_programs(1, suite=meta_suite)
    if best_meta:
        print(f"\nbest by meta-validation ({meta_suite}): program {best_meta[0]['program']} "
              f"fitness {best_meta[0]['fitness']:+.4f}")
    sys.stdout.flush()


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="run directory")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run_status(args) -> int:
    from . import UsageError
    from ..store import RunStore, StoreError

    try:
        store = RunStore.open_readonly(args.dir)
        counts = store.counts()
        last = store.last_stats() or {}
        config = store.config()
    except StoreError as err:
        raise UsageError(str(err)) from None
    first_lion = store.get_meta("first_lion")
    report = dict(counts, elapsed=float(store.get_meta("elapsed", "0")),
                  first_lion=json.loads(first_lion) if first_lion else None,
                  invalid=last.get("invalid", 0), islands=config.get("islands"),
                  island_best=last.get("island_best", []))
    store.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    best = report["best_fitness"]
    print(f"{args.dir}: {report['programs']} programs ({report['pending']} pending), "
          f"{report['evaluations']} evaluations ({report['failed_evaluations']} failed), "
          f"cache-hit rate {report['cache_hit_rate']:.1%}, redundant statements "
          f"{report['redundant_share']:.1%}, best fitness "
          f"{'-' if best is None else f'{best:+.4f}'}, {report['elapsed']:.0f} s")
    return 0
