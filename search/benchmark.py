"""``lion-search bench search``: the controller's overhead and scaling, measured side by side.

* **search vs raw**: evaluations per second of a search (breeding, hashing, funcsim,
  the store, ``ray.wait``) against the same warm actors given the search's own batches
  again, back to back, with no controller between them (the most the evaluators can do
  with that work). The replay carries what the search sent with each batch (each
  program's step-size centres, hurdle and bar, rebuilt from the run store), so both
  sides do the same work: under tuned step sizes a parentless program gets a wide scan
  and a child starts at its parent's step size, so a feed of made-up programs would not.
  Target >= 90%.
* **2 actors vs 1**: search evaluations per second with two actors against one, on this
  machine's cores. Target >= 1.7x on 2 cores.

Actors are started and compiled before any timing (a run pays that once). Each figure is
the evaluation rate between the first and the last completed evaluation. The bench runs
the default config (tuned step sizes, no hurdle) on ``--suite``.

Example:
    $ lion-search bench search --json
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time

from .config import load_config_text
from .controller import Search
from .requests import PROXY, Request
from .workers import start_actors

TARGET_SEARCH_VS_RAW = 0.9  # issue 12: keep the evaluators busy
TARGET_TWO_VS_ONE = 1.7


def _actors(count: int, config):
    import ray

    _, actors = start_actors(config, count, prefix="bench")
    ray.get([actor.warm_up.remote() for actor in actors])
    return actors


def raw_rate(actors, config, requests: list[Request]) -> float:
    """Evaluations/s of ``actors`` given ``requests`` back to back, ``inflight`` each."""
    import ray

    pending, busy, finished = list(reversed(requests)), {}, []
    for actor in actors:
        for _ in range(config.workers.inflight):
            if pending:
                busy[actor.evaluate.remote(*pending.pop())] = actor
    while busy:
        (done,), _ = ray.wait(list(busy), num_returns=1)
        actor = busy.pop(done)
        finished += [time.time()] * len(ray.get(done)[1])
        if pending:
            busy[actor.evaluate.remote(*pending.pop())] = actor
    return _rate(finished)


def _rate(finished: list[float]) -> float:
    """Evaluations per second between the first and the last completed evaluation."""
    finished = sorted(finished)
    first = finished.count(finished[0])  # those that completed with the first batch
    return (len(finished) - first) / (finished[-1] - finished[0])


def sent_requests(search) -> list[Request]:
    """The proxy batches ``search`` sent that came back, in the order sent, each as the
    request it went with (rebuilt from the run store)."""
    rows = search.store.db.execute(
        "SELECT programs FROM batches WHERE kind=? AND outcome='ok' ORDER BY id", (PROXY,))
    return [search.requests.request(PROXY, json.loads(programs)) for (programs,) in rows]


def search_rate(actors, config) -> tuple[dict, list[Request]]:
    """Evaluations/s of a real search using ``actors`` and its cache figures; and the
    requests it sent."""
    with tempfile.TemporaryDirectory() as directory:
        search = Search.start(config, os.path.join(directory, "run"), log=lambda _: None)
        search.run(actors=actors)
        counts = search.store.counts()
        finished = [row[0] for row in search.store.db.execute(
            "SELECT finished FROM evaluations WHERE suite='proxy'")]
        requests = sent_requests(search)
        search.store.close()
    return {"evaluations_per_s": _rate(finished),
            "evaluations": counts["evaluations"], "programs": counts["programs"],
            "cache_hit_rate": counts["cache_hit_rate"],
            "redundant_share": counts["redundant_share"]}, requests


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
        search_two, requests = search_rate(two, config)
        raw = raw_rate(two, config, requests)
        for actor in two[1:]:
            ray.kill(actor)
        search_one, _ = search_rate(two[:1], config)
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
