"""``lion-search bench search``: the controller's overhead and scaling, measured side by side.

* **search vs raw**: evaluations per second of a search (breeding, hashing, funcsim,
  the store, ``ray.wait``) against the same warm actors evaluating pre-made batches of
  distinct programs back to back (the most the evaluators can do). Target >= 90%.
* **2 actors vs 1**: search evaluations per second with two actors against one, on this
  machine's cores. Target >= 1.7x on 2 cores.

Actors are started and compiled before any timing (a run pays that once). Each figure is
the evaluation rate between the first and the last completed evaluation.

Example:
    $ lion-search bench search --json
"""

from __future__ import annotations

import os
import platform
import tempfile
import time

from evaluators.benchmark import searched_programs
from programs.printer import to_source

from .config import load_config_text
from .controller import Search
from .workers import start_actors

TARGET_SEARCH_VS_RAW = 0.9  # issue 12: keep the evaluators busy
TARGET_TWO_VS_ONE = 1.7


def _actors(count: int, config):
    import ray

    _, actors = start_actors(config, count, prefix="bench")
    ray.get([actor.warm_up.remote() for actor in actors])
    return actors


def raw_rate(actors, config, evaluations: int) -> float:
    """Evaluations/s of actors fed pre-made batches, ``inflight`` per actor."""
    import ray

    size = config.evaluator.batch_size
    sources = [to_source(p) for p in searched_programs(evaluations, seed=99)]
    batches = [sources[i:i + size] for i in range(0, len(sources), size)]
    pending, busy, finished = list(batches), {}, []
    for actor in actors:
        for _ in range(config.workers.inflight):
            if pending:
                busy[actor.evaluate.remote("proxy", pending.pop())] = actor
    while busy:
        (done,), _ = ray.wait(list(busy), num_returns=1)
        actor = busy.pop(done)
        finished += [time.time()] * len(ray.get(done)[1])
        if pending:
            busy[actor.evaluate.remote("proxy", pending.pop())] = actor
    return _rate(finished)


def _rate(finished: list[float]) -> float:
    """Evaluations per second between the first and the last completed evaluation."""
    finished = sorted(finished)
    first = finished.count(finished[0])  # those that completed with the first batch
    return (len(finished) - first) / (finished[-1] - finished[0])


def search_rate(actors, config, evaluations: int) -> dict:
    """Evaluations/s of a real search using ``actors``, and its cache figures."""
    with tempfile.TemporaryDirectory() as directory:
        search = Search.start(config, os.path.join(directory, "run"), log=lambda _: None)
        search.run(actors=actors)
        counts = search.store.counts()
        finished = [row[0] for row in search.store.db.execute(
            "SELECT finished FROM evaluations WHERE suite='proxy'")]
        search.store.close()
    return {"evaluations_per_s": _rate(finished),
            "evaluations": counts["evaluations"], "programs": counts["programs"],
            "cache_hit_rate": counts["cache_hit_rate"],
            "redundant_share": counts["redundant_share"]}


def run_benchmark(quick: bool = False, suite: str = "cpu") -> dict:
    """Measure; a JSON-ready dict of rates, ratios, targets and the machine."""
    import ray

    evaluations = 24 if quick else 80
    text = (f"population_size: 20\ntournament_size: 5\nevaluator: {{suite: {suite}, "
            f"batch_size: 4}}\nmeta_validation: {{every: 0}}\n"
            f"stop: {{max_evaluations: {evaluations}}}\ncheckpoint_every_s: 5\n")
    config = load_config_text(text, "bench")
    started = not ray.is_initialized()
    if started:
        from .ray_cluster import start

        start()  # a local instance, on loopback
    try:
        cores = int(ray.cluster_resources().get("CPU", 1))
        two = _actors(min(2, cores), config)
        raw = raw_rate(two, config, evaluations)
        search_two = search_rate(two, config, evaluations)
        for actor in two[1:]:
            ray.kill(actor)
        search_one = search_rate(two[:1], config, evaluations)
    finally:
        if started:
            ray.shutdown()
    return {
        "search_vs_raw": round(search_two["evaluations_per_s"] / raw, 3),
        "two_actors_vs_one": round(search_two["evaluations_per_s"] /
                                   search_one["evaluations_per_s"], 3),
        "raw_evaluations_per_s": round(raw, 3),
        "search_two_actors": search_two, "search_one_actor": search_one,
        "targets": {"search_vs_raw": TARGET_SEARCH_VS_RAW,
                    "two_actors_vs_one": TARGET_TWO_VS_ONE},
        "suite": suite, "evaluations_per_measure": evaluations,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
    }
