"""What each restart of a settings arm did (docs/search.md, "Restarts"):

    python benchmarks/restart_report.py runs/settings/restart5k [--json]

Per seed and restart: when it fired (seconds of search), from what (warm start or the
run's best), the run's best before it, how many children bred before it came back from
the evaluator after it (its batches in flight; since b5149e6 they stay out of the
restarted population, before it they joined it) and the best of them, and whether the
seed's best program at the end descends from the restart. Reads the run stores
only.
"""

import argparse
import json
from pathlib import Path

from search.cli.run_view import open_run


def restarts_of(run_dir: Path) -> dict:
    view = open_run(run_dir)  # read-only; its clock gives seconds of search
    db = view.db
    parent = dict(db.execute("SELECT id, parent FROM programs"))
    best, best_fitness = db.execute("SELECT id, fitness FROM programs WHERE fitness IS NOT "
                                    "NULL ORDER BY fitness DESC, id LIMIT 1").fetchone()
    lineage, pid = set(), best
    while pid is not None:
        lineage.add(pid)
        pid = parent.get(pid)
    rows = []
    for rid, mutation, born, joined in db.execute(
            "SELECT id, mutation, born, joined FROM programs WHERE mutation LIKE "
            "'restart%' ORDER BY id").fetchall():
        (before,) = db.execute("SELECT MAX(fitness) FROM programs WHERE born < ?",
                               (born,)).fetchone()
        stale, stale_best = db.execute("SELECT COUNT(*), MAX(fitness) FROM programs "
                                       "WHERE id < ? AND joined > ?", (rid, joined)).fetchone()
        rows.append({"at_s": round(view.search_seconds(born), 1),
                     "from": mutation.removeprefix("restart "), "best_before": before,
                     "in_flight": stale, "best_of_those": stale_best,
                     "in_best_lineage": rid in lineage})
    view.close()
    return {"best_fitness": best_fitness, "restarts": rows}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arm", type=Path, help="a settings arm's directory (seed-*/ inside)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    seeds = {d.name: restarts_of(d) for d in sorted(args.arm.glob("seed-*"))}
    if args.json:
        print(json.dumps(seeds))
        return
    print("| seed | at s | from | best before | in flight at it | their best "
          "| best descends from it |")
    print("|---|---|---|---|---|---|---|")
    for seed, report in seeds.items():
        for r in report["restarts"] or [None]:
            if r is None:
                print(f"| {seed} | - | no restart | | | | |")
                continue
            stale_best = "-" if r["best_of_those"] is None else f"{r['best_of_those']:+.3f}"
            print(f"| {seed} | {r['at_s']:.0f} | {r['from']} | {r['best_before']:+.3f} | "
                  f"{r['in_flight']} | {stale_best} | "
                  f"{'yes' if r['in_best_lineage'] else 'no'} |")


if __name__ == "__main__":
    main()
