"""The proxy-task study: is each task a fair judge of Lion against AdamW?

For every task and size: tune AdamW and Lion (``optax.adamw`` / ``optax.lion`` through
``evaluators.training``) on a log grid of learning rate and weight decay, on *tuning*
seeds; the grid grows by one step past any edge where the best point lies. Then run
both tuned settings and the paper's AdamW warm-start program on separate *confirmation*
seeds (the same seeds for all three, so differences are paired) and report the gap,
its noise, how often Lion wins, and the wall time of one training run after compiling.

Usage::

    python -m evaluators.study            # every task at every size (tens of minutes)
    python -m evaluators.study --quick    # proxy sizes, a small grid (a minute or two)
    python -m evaluators.study --tasks vit --sizes proxy,meta10 --json

Run pinned to one core for the timings to mean anything on a shared machine::

    XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \\
        taskset -c 1 python -m evaluators.study

Vectorising the grid with ``vmap`` was measured and dropped: on one CPU core a run
vmapped over 4-16 seeds or learning rates costs 10-45% *more* per run than the same
runs one after another (batched matmuls are slower than plain ones in XLA:CPU), so the
grid is a Python loop over one compiled ``(seed, lr, wd) -> loss`` function per
(task, optimizer).
"""

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax

from evaluators.tasks import SIZE_NAMES, get_task, task_names
from evaluators.training import final_val_loss, from_optax

EPS = 1e-8  # the program language's division epsilon


def warm_start_update(grads, state, params, lr):
    """The paper's AdamW warm-start program, written directly in JAX.

    ``m = interp(g, m, 0.9); v = interp(g*g, v, 0.999); update = (m / sqrt(v) + 0.01 w)
    * lr * 0.001``: no bias correction, ``eps`` added to the denominator.
    """
    m, v = state
    m = jax.tree.map(lambda g, m: 0.1 * g + 0.9 * m, grads, m)
    v = jax.tree.map(lambda g, v: 0.001 * g * g + 0.999 * v, grads, v)
    updates = jax.tree.map(
        lambda m, v, w: (m / (jnp.sqrt(jnp.abs(v)) + EPS) + 0.01 * w) * (lr * 0.001),
        m, v, params)
    return updates, (m, v)


def warm_start_init(params):
    """Zero ``m`` and ``v`` slots."""
    zeros = jax.tree.map(jnp.zeros_like, params)
    return zeros, zeros


OPTIMIZERS = {
    "adamw": lambda lr, wd: optax.adamw(lr, weight_decay=wd),
    "lion": lambda lr, wd: optax.lion(lr, weight_decay=wd),
}


def compiled_runner(task, optimizer: str):
    """A jitted ``(seed, lr, wd) -> validation loss`` for one task and optimizer.

    ``optimizer`` is a key of ``OPTIMIZERS`` or ``"warmstart"`` (which ignores lr, wd).
    """
    if optimizer == "warmstart":
        def run(seed, lr, wd):
            return final_val_loss(task, warm_start_update, warm_start_init, seed)
    else:
        def run(seed, lr, wd):
            return final_val_loss(task, *from_optax(OPTIMIZERS[optimizer](lr, wd)), seed)
    return jax.jit(run)


@dataclass
class GridSearch:
    """Losses of one optimizer on one task over a growing (lr, wd) grid.

    ``losses[(lr, wd)]`` holds one validation loss per tuning seed. NaN (diverged) runs
    count as infinitely bad.
    """

    run: object
    seeds: tuple
    factor: float = 2.0
    max_grow: int = 3
    losses: dict = field(default_factory=dict)

    def evaluate(self, lrs, wds):
        for lr in lrs:
            for wd in wds:
                if (lr, wd) not in self.losses:
                    self.losses[(lr, wd)] = np.array(
                        [float(self.run(s, lr, wd)) for s in self.seeds])

    def mean(self, point) -> float:
        value = float(np.mean(self.losses[point]))
        return value if math.isfinite(value) else math.inf

    def best(self):
        return min(self.losses, key=self.mean)

    def search(self, lrs, wds):
        """Evaluate ``lrs x wds``; while the best point is on an edge, add a row past it."""
        lrs, wds = sorted(lrs), sorted(wds)
        self.evaluate(lrs, wds)
        for _ in range(self.max_grow):
            lr, wd = self.best()
            grown = False
            if lr == lrs[0] or lr == lrs[-1]:
                lrs = sorted(lrs + [lr / self.factor if lr == lrs[0] else lr * self.factor])
                grown = True
            if len(wds) > 1 and wd > 0 and (wd == wds[-1] or wd == wds[0] and wds[0] > 0):
                wds = sorted(wds + [wd * self.factor ** 2 if wd == wds[-1]
                                    else wd / self.factor ** 2])
                grown = True
            if not grown:
                break
            self.evaluate(lrs, wds)
        return self.best()


# Initial grids (the search grows them past an edge). Lion's lr is ~4x below AdamW's and
# its wd ~4x above, keeping lr * wd comparable, as the paper recommends.
GRIDS = {
    "full": {"adamw": ([1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2], [0.03, 0.1, 0.3, 1.0]),
             "lion": ([2.5e-4, 5e-4, 1e-3, 2e-3, 4e-3], [0.1, 0.3, 1.0, 3.0])},
    "quick": {"adamw": ([2e-3, 4e-3, 8e-3], [0.3]),
              "lion": ([5e-4, 1e-3, 2e-3], [1.0])},
}


def time_one_run(run, lr, wd, repeats: int = 3) -> float:
    """Best-of-``repeats`` wall seconds of one (already compiled) training run."""
    times = []
    for s in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(run(1000 + s, lr, wd))
        times.append(time.perf_counter() - start)
    return min(times)


def study_task(task, grids, tune_seeds, confirm_seeds, log=print) -> dict:
    """Tune, confirm and time AdamW and Lion on ``task``; return one table row."""
    row = {"task": task.name, "size": task.size, "steps": task.steps,
           "batch": task.batch_size}
    best, confirm = {}, {}
    for opt in ("adamw", "lion"):
        start = time.perf_counter()
        run = compiled_runner(task, opt)
        jax.block_until_ready(run(0, 1e-3, 0.1))
        row["compile_s"] = round(time.perf_counter() - start, 2)
        grid = GridSearch(run, tuple(tune_seeds))
        lr, wd = grid.search(*grids[opt])
        best[opt] = (lr, wd)
        confirm[opt] = np.array([float(run(s, lr, wd)) for s in confirm_seeds])
        row[f"{opt}_lr"], row[f"{opt}_wd"] = lr, wd
        row[f"{opt}_tune"] = round(grid.mean((lr, wd)), 4)
        row[f"{opt}_grid_points"] = len(grid.losses)
        if opt == "adamw":
            row["run_ms"] = round(1e3 * time_one_run(run, lr, wd), 1)
        log(f"  {task.name}/{task.size} {opt}: lr={lr:g} wd={wd:g} "
            f"tune={grid.mean((lr, wd)):.4f} confirm={confirm[opt].mean():.4f} "
            f"({len(grid.losses)} grid points, {time.perf_counter() - start:.0f}s)")
    warm = compiled_runner(task, "warmstart")
    confirm["warmstart"] = np.array([float(warm(s, 0.0, 0.0)) for s in confirm_seeds])
    n = len(confirm_seeds)
    gap = confirm["adamw"] - confirm["lion"]            # > 0: Lion better
    row.update({
        "seeds": n,
        "adamw": round(confirm["adamw"].mean(), 4),
        "lion": round(confirm["lion"].mean(), 4),
        "gap": round(gap.mean(), 4),
        "gap_se": round(gap.std(ddof=1) / math.sqrt(n), 4),
        "lion_wins": int((gap > 0).sum()),
        "seed_std": round(confirm["adamw"].std(ddof=1), 4),
        "warmstart": round(confirm["warmstart"].mean(), 4),
        "warm_gap": round((confirm["warmstart"] - confirm["adamw"]).mean(), 4),
    })
    return row


COLUMNS = [("task", "{}"), ("size", "{}"), ("steps", "{}"), ("batch", "{}"),
           ("run_ms", "{:.0f}"), ("adamw_lr", "{:.2g}"), ("adamw_wd", "{:.2g}"),
           ("lion_lr", "{:.2g}"), ("lion_wd", "{:.2g}"), ("adamw", "{:.4f}"),
           ("lion", "{:.4f}"), ("gap", "{:+.4f}"), ("gap_se", "{:.4f}"),
           ("lion_wins", "{}"), ("seeds", "{}"), ("seed_std", "{:.4f}"),
           ("warm_gap", "{:+.4f}")]


def format_table(rows) -> str:
    """A Markdown table of study rows (``gap`` = AdamW - Lion; > 0 means Lion is better)."""
    head = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    body = ["| " + " | ".join(fmt.format(r[name]) for name, fmt in COLUMNS) + " |"
            for r in rows]
    return "\n".join([head, rule] + body)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluators.study", description=__doc__
                                     .split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="proxy sizes only, a 3-point grid per optimizer")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--tasks", default=",".join(task_names()))
    parser.add_argument("--sizes", default=None, help="comma list; default all (proxy if --quick)")
    parser.add_argument("--tune-seeds", type=int, default=4)
    parser.add_argument("--confirm-seeds", type=int, default=None,
                        help="default 8 (4 with --quick)")
    args = parser.parse_args(argv)
    sizes = (args.sizes or ("proxy" if args.quick else ",".join(SIZE_NAMES))).split(",")
    grids = GRIDS["quick" if args.quick else "full"]
    n_confirm = args.confirm_seeds or (4 if args.quick else 8)
    tune_seeds = range(args.tune_seeds)
    confirm_seeds = range(100, 100 + n_confirm)
    log = (lambda *a: print(*a, file=sys.stderr, flush=True))
    rows = []
    for size in sizes:
        for name in args.tasks.split(","):
            rows.append(study_task(get_task(name, size), grids, tune_seeds, confirm_seeds, log))
    print(json.dumps(rows, indent=1) if args.json else format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
