"""Runs for the inspection tests: a synthetic one (fast, known numbers) and a real one.

* :func:`make_synthetic_run` writes a run store by hand: six programs with a lineage,
  a cache hit, a failed evaluation, a pending program, a Lion-family program and a
  meta-validation, plus a few stats rows;
* :func:`real_run` makes a real small search (a subprocess ``lion-search run``, ~40 s,
  mostly Ray starting and compiling) and, while it writes, runs ``top``, ``show`` and
  ``report`` against it, keeping what they answered; :func:`shared_real_run` makes it
  once for the whole test run, however many pytest-xdist workers ask for it.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import math
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from programs.dataflow import count_redundant
from programs.funcsim import fingerprint
from programs.hashing import structural_hash
from programs.parser import parse
from programs.printer import to_source
from programs.seed_programs import load_seed
from search.cli import main
from search.store import RunStore

CONFIG = {"seed": 0, "population_size": 4, "islands": 1,
          "meta_validation": {"suite": "meta10", "every": 2, "top_k": 1}}

ADAMW_WITH_DEAD_CODE = """def train(w, g, m, v, lr):
    g2 = square(g)
    m = interp(g, m, 0.9)
    v = interp(g2, v, 0.999)
    dead = cos(w)
    sqrt_v = sqrt(v)
    update = m / sqrt_v
    wd = w * 0.01
    update = update + wd
    lr = lr * 0.001
    update = update * lr
    return update, m, v
"""


def cli(*args) -> tuple[int, str, str]:
    """``lion-search ARGS`` in this process: ``(status, stdout, stderr)``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


def _result(fitness: float, losses: dict, status: str = "ok", reason: str | None = None):
    return {"fitness": fitness, "losses": losses,
            "task_fitness": {k: fitness for k in losses}, "status": status,
            "reason": reason, "seconds": 0.1}


def _add(store: RunStore, program, parent, mutation) -> tuple[int, str]:
    fp = fingerprint(program)
    pid = store.add_program(to_source(program), parent, mutation, 0,
                            structural_hash(program), fp, len(program),
                            count_redundant(program), epoch_start=parent is None)
    return pid, fp


def make_synthetic_run(directory: Path) -> dict:
    """A hand-made run in ``directory``; returns the ids and numbers it holds."""
    store = RunStore.create(directory, CONFIG)
    adamw, signum, lion = load_seed("adamw"), load_seed("signum"), load_seed("lion")
    p1, fp1 = _add(store, adamw, None, "warm start (adamw)")
    store.add_evaluation(fp1, p1, "proxy", _result(0.0, {"mlp": 1.25}), "w0", [p1])
    p2, fp2 = _add(store, signum, p1, "modify: line 3 argument 1: m -> g")
    store.add_evaluation(fp2, p2, "proxy", _result(-0.5, {"mlp": 1.875}), "w0", [p2])
    p3, fp3 = _add(store, lion, p2, "insert: line 2: c = interp(g, m, 0.9)")
    store.add_evaluation(fp3, p3, "proxy", _result(0.25, {"mlp": 0.9375}) | {"seeds": 12},
                         "w0", [p3])  # confirmed on held-out seeds
    store.add_evaluation(fp3, p3, "meta10", _result(0.125, {"mlp@meta10": 0.5}), "w0")
    p4, fp4 = _add(store, parse(ADAMW_WITH_DEAD_CODE), p1, "insert: line 4: dead = cos(w)")
    assert fp4 == fp1
    store.join([p4], 0.0, cache_hit=True)
    p5, fp5 = _add(store, parse("def train(w, g, m, v, lr):\n    u = exp(g)\n"
                                "    u = exp(u)\n    return u, m, v\n"), p3, "modify")
    store.add_evaluation(fp5, p5, "proxy", _result(-1.0, {"mlp": math.nan}, "failed",
                                                   "mlp: non-finite"), "w0", [p5])
    p6, _ = _add(store, load_seed("sgd"), p3, "delete: line 2")  # pending: no fitness
    for step, (programs, evaluations, failed, hits, invalid) in enumerate(
            [(1, 0, 0, 0.0, 0), (3, 2, 0, 0.0, 1), (6, 4, 1, 0.2, 3)]):
        store.add_stats(2.0 * (step + 1), {
            "programs": programs, "evaluations": evaluations,
            "failed_evaluations": failed, "cache_hit_rate": hits, "invalid": invalid})
    store.close()
    return {"ids": [p1, p2, p3, p4, p5, p6], "lion": p3, "pending": p6, "cache_hit": p4,
            "failed": p5, "top": [(p3, 0.25), (p1, 0.0), (p2, -0.5)]}


# A fixed step size and the MLP alone for meta-validation: these tests inspect a run, and
# tuning every meta-validation on vit@meta10 would make this search take minutes.
TINY = """seed: 0
population_size: 6
tournament_size: 2
evaluator: {suite: mlp, seeds: [0], batch_size: 2, step_size: fixed}
meta_validation: {suite: mlp@meta10, every: 20, top_k: 2}
stop: {max_programs: 60}
"""

_REAL = {}
REAL_RUN_TIMEOUT_S = 600


def real_run(base: Path) -> dict:
    """A real small search in ``base/run`` (made once per session).

    Returns ``{"dir": Path, "during": [(command, status, stderr, programs), ...]}``: what
    ``top``, ``show`` and ``report`` answered while the search was writing, with the
    number of programs stored right after each answer.
    """
    if "run" in _REAL:
        return _REAL["run"]
    config = base / "tiny.yaml"
    config.write_text(TINY)
    run_dir = base / "run"
    log = base / "search.log"  # a file, not a pipe nobody reads while it runs
    with open(log, "w") as output:
        search = subprocess.Popen([sys.executable, "-m", "search.cli", "run", str(config),
                                   "--out", str(run_dir)], stdout=output,
                                  stderr=subprocess.STDOUT, text=True)
    commands = [("top", run_dir, "--json"), ("show", run_dir, 1),
                ("report", run_dir, "--out", base / "report-during")]
    during, started = [], False
    deadline = time.monotonic() + REAL_RUN_TIMEOUT_S
    try:
        while search.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the search ran past {REAL_RUN_TIMEOUT_S} s:\n"
                                     f"{log.read_text()}")
            time.sleep(0.5 if not started else 2.0)
            if not started:  # the warm start is stored before anything else happens
                started = (run_dir / "run.sqlite").exists() and cli("show", run_dir, 1)[0] == 0
                continue
            # Each command twice, while the run moves; then leave the CPU to the search
            # (`report` draws plots: a loop of them slowed the search threefold in CI).
            if len(during) >= 2 * len(commands) and len({c for *_, c in during}) > 1:
                continue
            command = commands[len(during) % len(commands)]  # one a turn
            status, _, err = cli(*command)
            during.append((command[0], status, err, _counts(run_dir)))
    finally:
        if search.poll() is None:
            search.kill()
            search.wait(timeout=60)
    assert search.returncode == 0, log.read_text()
    _REAL["run"] = {"dir": run_dir, "during": during}
    return _REAL["run"]


def shared_real_run(tmp_path_factory) -> dict:
    """:func:`real_run`, made once for the whole test run.

    Each pytest-xdist worker has a session of its own: the first worker to ask makes the
    run, under a file lock, in the folder every worker's temporary directory sits in, and
    keeps what it found there (or why it failed); the others wait for it and read that.
    """
    if "run" in _REAL:
        return _REAL["run"]
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # base: .../pytest-N/popen-gwK
        base = base.parent
    base = base / "inspect-real"
    base.mkdir(exist_ok=True)
    kept, failed = base / "during.json", base / "failed.txt"
    with open(base / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if failed.exists():
            raise AssertionError(f"the shared real run failed:\n{failed.read_text()}")
        if not kept.exists():
            try:
                run = real_run(base)
            except BaseException as err:
                failed.write_text(f"{type(err).__name__}: {err}")
                raise
            kept.write_text(json.dumps(run["during"]))
            return run
    _REAL["run"] = {"dir": base / "run",
                    "during": [tuple(answer) for answer in json.loads(kept.read_text())]}
    return _REAL["run"]


def _counts(run_dir: Path) -> int:
    db = sqlite3.connect(f"file:{run_dir}/run.sqlite?mode=ro", uri=True)
    try:
        return db.execute("SELECT COUNT(*) FROM programs").fetchone()[0]
    finally:
        db.close()


def sql(run_dir: Path, query: str, *args) -> list[tuple]:
    """Rows of ``query`` on the run's database, read-only."""
    db = sqlite3.connect(f"file:{run_dir}/run.sqlite?mode=ro", uri=True)
    try:
        return db.execute(query, args).fetchall()
    finally:
        db.close()


def top_by_sql(run_dir: Path, count: int, suite: str = "proxy") -> list[dict]:
    """The best programs straight from SQL: what ``top --json`` must say."""
    rows = sql(run_dir, "SELECT e.fitness, e.losses, (SELECT MIN(p.id) FROM programs p "
                        "WHERE p.fingerprint = e.fingerprint) FROM evaluations e WHERE "
                        "e.suite=? AND e.status='ok' ORDER BY e.fitness DESC, e.id LIMIT ?",
               suite, count)
    found = []
    for fitness, losses, pid in rows:
        (statements, redundant), = sql(run_dir, "SELECT statements, redundant FROM "
                                                "programs WHERE id=?", pid)
        found.append({"id": pid, "fitness": fitness, "losses": json.loads(losses),
                      "statements": statements, "live_statements": statements - redundant})
    return found
