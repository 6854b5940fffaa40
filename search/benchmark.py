"""``lion-search bench search``: the controller's overhead and scaling, measured side by side.

* **search vs raw**: evaluations per second of a search (breeding, hashing, funcsim,
  the store, ``ray.wait``) against the same warm actors given the search's own batches
  again, back to back, with no controller between them (the most the evaluators can do
  with that work). The replay carries what the search sent with each batch (each
  program's step-size centres, hurdle and bar, rebuilt from the run store), so both
  sides do the same work: under tuned step sizes a parentless program gets a wide scan
  and a child starts at its parent's step size, so a feed of made-up programs would not.
  Target >= 90%.
* **2 actors vs 1**: the search's evaluations per second with two actors against one
  actor given the same batches (the replay, on one actor): the same work at the most
  one evaluator can do it. Target >= 1.7x on 2 cores. (A second search with one actor
  would not do the same work: asynchronous evolution breeds other children when the
  results come back in another order.)

Actors are started and compiled before any timing (a run pays that once). Each figure is
a steady evaluation rate summed over the actors, each from its first completed batch to
its last (:func:`rate`); ``over_the_run`` gives the same ratios from every evaluation
over the time from the first batch sent to the last result (start-up and the last
batches included). The bench runs the default config (tuned step sizes, no hurdle)
on ``--suite``.

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


def raw_rate(actors, config, requests: list[Request]) -> dict:
    """Evaluations/s of ``actors`` given ``requests`` back to back, ``inflight`` each:
    ``evaluations_per_s`` (:func:`rate`) and ``over_the_run_per_s`` (all of them over
    the time from the first request sent to the last result)."""
    import ray

    pending, busy, finished = list(reversed(requests)), {}, []
    sent = time.time()
    for actor in actors:
        for _ in range(config.workers.inflight):
            if pending:
                busy[actor.evaluate.remote(*pending.pop())] = actor
    while busy:
        (done,), _ = ray.wait(list(busy), num_returns=1)
        actor = busy.pop(done)
        worker, results = ray.get(done)
        finished += [(worker, time.time())] * len(results)
        if pending:
            busy[actor.evaluate.remote(*pending.pop())] = actor
    return {"evaluations_per_s": rate(finished),
            "over_the_run_per_s": over_the_run(finished, sent)}


def rate(finished: list[tuple[str, float]]) -> float:
    """Evaluations per second: per worker, those completed after its first batch over
    the time from its first completion to its last; summed over the workers. (Counting
    from the first completion of all would count the other workers' first batches
    without the time they took.)

    >>> rate([("a", 0.0), ("a", 0.0), ("a", 2.0), ("a", 2.0), ("b", 1.0), ("b", 3.0)])
    1.5
    """
    by_worker = {}
    for worker, when in finished:
        by_worker.setdefault(worker, []).append(when)
    total = 0.0
    for times in by_worker.values():
        times.sort()
        later = len(times) - times.count(times[0])
        if later:
            total += later / (times[-1] - times[0])
    return total


def over_the_run(finished: list[tuple[str, float]], sent: float) -> float:
    """Evaluations per second over the whole run: every one of them over the time from
    the first batch ``sent`` to the last result.

    >>> over_the_run([("a", 1.0), ("b", 2.0), ("a", 4.0)], sent=0.0)
    0.75
    """
    return len(finished) / (max(when for _, when in finished) - sent)


def _drain(actors) -> None:
    """Wait until ``actors`` have finished what the search left in flight when it
    stopped (an actor runs its calls one after another), so that the next measure
    starts on idle actors."""
    import ray

    ray.get([actor.pid.remote() for actor in actors])


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
        _drain(actors)
        counts = search.store.counts()
        finished = search.store.db.execute(
            "SELECT worker, finished FROM evaluations WHERE suite='proxy'").fetchall()
        (sent,) = search.store.db.execute(
            "SELECT MIN(submitted) FROM batches WHERE kind=?", (PROXY,)).fetchone()
        requests = sent_requests(search)
        search.store.close()
    return {"evaluations_per_s": rate(finished),
            "over_the_run_per_s": over_the_run(finished, sent),
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
        raw_one = raw_rate(two[:1], config, requests)
    finally:
        if started:
            ray.shutdown()
    steady, whole = "evaluations_per_s", "over_the_run_per_s"
    return {
        "search_vs_raw": round(search_two[steady] / raw[steady], 3),
        "two_actors_vs_one": round(search_two[steady] / raw_one[steady], 3),
        "over_the_run": {"search_vs_raw": round(search_two[whole] / raw[whole], 3),
                         "two_actors_vs_one": round(search_two[whole] / raw_one[whole], 3)},
        "search_two_actors": _rounded(search_two),
        "raw_two_actors": _rounded(raw), "raw_one_actor": _rounded(raw_one),
        "targets": {"search_vs_raw": TARGET_SEARCH_VS_RAW,
                    "two_actors_vs_one": TARGET_TWO_VS_ONE},
        "suite": suite, "evaluations_per_measure": evaluations,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
    }


def _rounded(figures: dict) -> dict:
    return {key: round(value, 3) if isinstance(value, float) else value
            for key, value in figures.items()}
