"""Who uses the machine's CPU while a search runs: the evaluator actors, the controller,
Ray's own processes, everything else (Linux: it reads /proc).

Issue 12 asks that a search keep its evaluators busy (search throughput >= 0.9 of the
raw evaluator's). On a machine where the controller and the actors share the cores, what
the controller and Ray take is what the actors lose: the actors' share of the cores is
the ratio a raw feed (actors alone on the machine) would show, without stopping the
search to measure it. Run it beside a search:

    python benchmarks/cpu_share.py [--seconds 60] [--json]

>>> group("ray::EvaluatorWorker.evaluate"), group("/venv/bin/lion-search rediscover x")
('actors', 'controller')
>>> group("/venv/lib/python3.11/site-packages/ray/core/src/ray/raylet/raylet --x")
'ray'
"""

from __future__ import annotations

import argparse
import json
import os
import time

GROUPS = ("actors", "controller", "ray", "other")


def group(command: str) -> str:
    """Which of :data:`GROUPS` a process belongs to, by its command line."""
    if command.startswith("ray::EvaluatorWorker"):  # Ray titles it ray::<class>.<method>
        return "actors"
    if "lion-search" in command:
        return "controller"
    if "/ray/" in command or command.startswith("ray::") or "gcs_server" in command:
        return "ray"
    return "other"


def cpu_times() -> dict[int, tuple[float, str]]:
    """``{pid: (user + system CPU seconds, command line)}`` of every process now."""
    ticks = os.sysconf("SC_CLK_TCK")
    times = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat, open(f"/proc/{entry}/cmdline") as cmd:
                fields = stat.read().rsplit(")", 1)[1].split()
                command = cmd.read().replace("\0", " ").strip()
        except OSError:  # it ended meanwhile
            continue
        times[int(entry)] = ((int(fields[11]) + int(fields[12])) / ticks, command)
    return times


def shares(seconds: float) -> dict:
    """CPU used per group over ``seconds`` of wall time, in cores, and the actors'
    share of the machine."""
    before, start = cpu_times(), time.monotonic()
    time.sleep(seconds)
    after, wall = cpu_times(), time.monotonic() - start
    used = dict.fromkeys(GROUPS, 0.0)
    actors = 0
    for pid, (cpu, command) in after.items():
        if pid in before and before[pid][1] == command:
            kind = group(command)
            used[kind] += (cpu - before[pid][0]) / wall
            actors += kind == "actors"
    cores = os.cpu_count() or 1
    return {"wall_s": round(wall, 1), "cores": cores, "actors": actors,
            "cores_used": {k: round(v, 3) for k, v in used.items()},
            "actors_share_of_cores": round(used["actors"] / min(cores, actors or 1), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = shares(args.seconds)
    if args.json:
        print(json.dumps(result))
        return
    used = ", ".join(f"{k} {v:.2f}" for k, v in result["cores_used"].items())
    print(f"over {result['wall_s']} s on {result['cores']} cores: {used} (cores busy); "
          f"the {result['actors']} actors had {result['actors_share_of_cores']:.1%} "
          f"of their cores")


if __name__ == "__main__":
    main()
