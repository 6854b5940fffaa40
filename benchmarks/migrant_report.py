"""What migration did in each seed of an islands arm (docs/search.md, "Islands"):

    python benchmarks/migrant_report.py runs/settings/islands2 [--json]

Per seed: how many migrants arrived (programs whose mutation is ``migrant from island
K``), how many of them raised the receiving island's best (their fitness above every
program that had joined that island before them), and the share of the seed's best
program's lineage that came by migration. Reads the run stores only.
"""

import argparse
import json
from pathlib import Path

from search.cli.run_view import open_run


def migrants_of(run_dir: Path) -> dict:
    db = open_run(run_dir).db  # read-only
    migrants, raised = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(m.fitness > (SELECT MAX(p.fitness) FROM programs p "
        "WHERE p.island = m.island AND p.joined < m.joined)), 0) FROM programs m "
        "WHERE m.mutation LIKE 'migrant%' AND m.joined IS NOT NULL").fetchone()
    rows = db.execute("SELECT id, parent, mutation FROM programs").fetchall()
    parent = {pid: up for pid, up, _ in rows}
    mutation = {pid: kind for pid, _, kind in rows}
    (best,) = db.execute("SELECT id FROM programs WHERE fitness IS NOT NULL "
                         "ORDER BY fitness DESC, id LIMIT 1").fetchone()
    lineage, pid = [], best
    while pid is not None:
        lineage.append(pid)
        pid = parent.get(pid)
    return {"migrants": migrants, "raised_the_receiving_islands_best": raised,
            "best": best, "migrations_in_the_best_lineage":
                sum(mutation[p].startswith("migrant") for p in lineage),
            "lineage_length": len(lineage)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arm", type=Path, help="an experiment directory (seed-K/ inside)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = {seed.name: migrants_of(seed) for seed in sorted(args.arm.glob("seed-*"))
              if (seed / "run.sqlite").exists()}
    if args.json:
        print(json.dumps(report))
        return
    for name, row in report.items():
        print(f"{name}: {row['migrants']} migrants, {row['raised_the_receiving_islands_best']}"
              f" raised the receiving island's best; the best (program {row['best']}) came "
              f"by {row['migrations_in_the_best_lineage']} migration(s) in a lineage of "
              f"{row['lineage_length']}")


if __name__ == "__main__":
    main()
