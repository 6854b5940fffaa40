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
* **an evaluation's compute, alone vs paired**: the seconds the evaluators report
  inside their compiled calls, per evaluation, on one actor alone over each of two (the
  same batches). Below 1, an actor computes faster alone (two share the caches and the
  memory bus), and twice this ratio is the most 2 actors can give over 1; with a busy
  share near 1 on every side, a 2-vs-1 ratio at that ceiling is all the hardware allows.

The two sides run in interleaved rounds, so that the machine's drift (the same work
was measured 19% apart from one run to the next on the shared development machine)
falls on both: each round is a search (seeded by the round) of ``evaluations`` on two
actors, then its batches replayed on both actors, then on one of them (the other stays
idle). Each figure is a steady evaluation rate summed over the actors, each from its
first completed batch to its last (:func:`rate`; the search's batches are read whole
from the run store, :func:`returned_batches`); ``over_the_run`` gives the same ratios
from every evaluation over the time from the first batch sent to the last result
(start-up and the last batches included). Each side also says what share of its
actors' time went to compiled calls (:func:`busy_share`). A ratio is reported per round
and as the mean over the rounds with its standard error (:func:`mean_and_se`). Actors
are started and compiled before any timing (a run pays that once). The bench runs the
default config (tuned step sizes, no hurdle) on ``--suite``.

Example:
    $ lion-search bench search --json
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import sys
import tempfile
import time
from typing import NamedTuple

from evaluators.paired import mean_and_se

from .config import load_config_text
from .controller import Search
from .requests import PROXY, Request
from .workers import start_actors

TARGET_SEARCH_VS_RAW = 0.9  # issue 12: keep the evaluators busy
TARGET_TWO_VS_ONE = 1.7
ROUNDS, EVALUATIONS = 3, 60        # a full run: ~20 minutes on the 2-core machine
QUICK_ROUNDS, QUICK_EVALUATIONS = 2, 24


def _actors(count: int, config):
    import ray

    _, actors = start_actors(config, count, prefix="bench")
    ray.get([actor.warm_up.remote() for actor in actors])
    return actors


class Batch(NamedTuple):
    """One batch as it came back: the worker that ran it, when its result arrived, how
    many evaluations it held and the seconds its evaluator spent in compiled calls."""

    worker: str
    finished: float
    evaluations: int
    seconds: float


def raw_rate(actors, config, requests: list[Request]) -> dict:
    """``actors`` given ``requests`` back to back, ``inflight`` each: the figures of
    :func:`side` from the batches as they came back."""
    import ray

    pending, busy, batches = list(reversed(requests)), {}, []
    sent = time.time()
    for actor in actors:
        for _ in range(config.workers.inflight):
            if pending:
                busy[actor.evaluate.remote(*pending.pop())] = actor
    while busy:
        (done,), _ = ray.wait(list(busy), num_returns=1)
        actor = busy.pop(done)
        worker, results = ray.get(done)
        batches.append(Batch(worker, time.time(), len(results),
                             sum(result["seconds"] for result in results)))
        if pending:
            busy[actor.evaluate.remote(*pending.pop())] = actor
    return side(batches, sent)


def side(batches: list[Batch], sent: float) -> dict:
    """One side's figures: ``evaluations_per_s`` (:func:`rate`), ``over_the_run_per_s``
    (:func:`over_the_run`), ``compute_s_per_evaluation`` (the seconds the evaluators
    report inside their compiled calls, per evaluation: what the work itself cost,
    scheduling aside) and ``busy_share`` (:func:`busy_share`)."""
    evaluations = sum(batch.evaluations for batch in batches)
    return {"evaluations_per_s": rate(batches),
            "over_the_run_per_s": over_the_run(batches, sent),
            "compute_s_per_evaluation": sum(b.seconds for b in batches) / evaluations,
            "busy_share": busy_share(batches)}


def _after_the_first(batches: list[Batch]) -> dict[str, tuple[list[Batch], float]]:
    """Per worker: its batches after its first, and the time from its first result to
    its last (a worker with one batch has none)."""
    by_worker = {}
    for batch in sorted(batches, key=lambda batch: batch.finished):
        by_worker.setdefault(batch.worker, []).append(batch)
    return {worker: (mine[1:], mine[-1].finished - mine[0].finished)
            for worker, mine in by_worker.items() if len(mine) > 1}


def rate(batches: list[Batch]) -> float:
    """Evaluations per second: per worker, those of its batches after its first over the
    time from its first result to its last; summed over the workers. (Counting from the
    first result of all would count the other workers' first batches without the time
    they took.)

    >>> rate([Batch("a", 0.0, 2, 1.0), Batch("a", 2.0, 2, 1.0), Batch("b", 1.0, 1, 1.0),
    ...       Batch("b", 3.0, 1, 1.0)])
    1.5
    """
    return sum(sum(b.evaluations for b in later) / span
               for later, span in _after_the_first(batches).values() if span > 0)


def busy_share(batches: list[Batch]) -> float | None:
    """The share of the workers' time (each from its first result to its last) spent
    inside compiled calls: near 1, the actors never wait for work.

    >>> busy_share([Batch("a", 0.0, 2, 1.0), Batch("a", 2.0, 2, 1.5), Batch("b", 1.0, 1, 1.0),
    ...             Batch("b", 3.0, 1, 2.0)])
    0.875
    """
    parts = _after_the_first(batches).values()
    time_spanned = sum(span for _, span in parts)
    if time_spanned <= 0:  # no worker had a second batch
        return None
    return sum(sum(b.seconds for b in later) for later, _ in parts) / time_spanned


def over_the_run(batches: list[Batch], sent: float) -> float:
    """Evaluations per second over the whole run: every one of them over the time from
    the first batch ``sent`` to the last result.

    >>> over_the_run([Batch("a", 1.0, 1, 0.5), Batch("b", 2.0, 1, 0.5), Batch("a", 4.0, 1, 0.5)],
    ...              sent=0.0)
    0.75
    """
    return sum(b.evaluations for b in batches) / (max(b.finished for b in batches) - sent)


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


def returned_batches(store) -> tuple[list[Batch], float]:
    """The proxy batches of a run store that came back, as :class:`Batch` records (an
    evaluation's time is its batch's: the store stamps each evaluation as it writes it,
    a few milliseconds apart, so one batch's results would read as several), and when
    the first was sent."""
    seconds = dict(store.db.execute(
        "SELECT program, seconds FROM evaluations WHERE suite=?", (PROXY,)))
    batches, sent = [], math.inf
    for worker, finished, programs, rejected, submitted in store.db.execute(
            "SELECT worker, finished, programs, rejected, submitted FROM batches "
            "WHERE kind=? AND outcome='ok'", (PROXY,)):
        pids = json.loads(programs)
        batches.append(Batch(worker, finished, len(pids) - rejected,
                             sum(seconds.get(pid, 0.0) for pid in pids)))
        sent = min(sent, submitted)
    return batches, sent


def search_rate(actors, config) -> tuple[dict, list[Request]]:
    """Evaluations/s of a real search using ``actors`` and its cache figures; and the
    requests it sent."""
    with tempfile.TemporaryDirectory() as directory:
        search = Search.start(config, os.path.join(directory, "run"), log=lambda _: None)
        search.run(actors=actors)
        _drain(actors)
        counts = search.store.counts()
        batches, sent = returned_batches(search.store)
        requests = sent_requests(search)
        search.store.close()
    return {**side(batches, sent),
            "evaluations": counts["evaluations"], "programs": counts["programs"],
            "cache_hit_rate": counts["cache_hit_rate"],
            "redundant_share": counts["redundant_share"]}, requests


def run_benchmark(quick: bool = False, suite: str = "cpu") -> dict:
    """Measure; a JSON-ready dict of rates, ratios, targets and the machine."""
    import ray

    rounds, evaluations = (QUICK_ROUNDS, QUICK_EVALUATIONS) if quick else \
        (ROUNDS, EVALUATIONS)
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
        actors = _actors(min(2, cores), config)
        measured = []
        for seed in range(rounds):  # a round takes minutes: say how each went
            measured.append(measure_round(actors, dataclasses.replace(config, seed=seed)))
            figures = ratios(measured[-1:])
            compute = figures["compute_alone_vs_paired"]
            print(f"round {seed + 1} of {rounds}: search vs raw "
                  f"{figures['search_vs_raw']['mean']:.2f}, two actors vs one "
                  f"{figures['two_actors_vs_one']['mean']:.2f}x"
                  + (f", an evaluation's compute alone vs paired {compute['mean']:.2f}"
                     if compute else ""), file=sys.stderr, flush=True)
    finally:
        if started:
            ray.shutdown()
    return {**ratios(measured),
            "rounds": [{side: _rounded(figures) for side, figures in one.items()}
                       for one in measured],
            "targets": {"search_vs_raw": TARGET_SEARCH_VS_RAW,
                        "two_actors_vs_one": TARGET_TWO_VS_ONE},
            "suite": suite, "evaluations_per_round": evaluations,
            "actors": len(actors),
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count()}}


def measure_round(actors, config) -> dict:
    """One round: a search on ``actors``, then its batches replayed on all of them, then
    on the first alone; each side's rates (:func:`raw_rate`, :func:`search_rate`)."""
    search, requests = search_rate(actors, config)
    raw = raw_rate(actors, config, requests)
    raw_one = raw_rate(actors[:1], config, requests)
    return {"search_two_actors": search, "raw_two_actors": raw, "raw_one_actor": raw_one}


def ratios(rounds: list[dict]) -> dict:
    """The bench's ratios from its rounds (:func:`measure_round`): each as the mean over
    the rounds with its standard error, and per round; steady rates and over the run.

    >>> one = {"search_two_actors": {"evaluations_per_s": 1.0, "over_the_run_per_s": 0.9},
    ...        "raw_two_actors": {"evaluations_per_s": 1.0, "over_the_run_per_s": 1.0},
    ...        "raw_one_actor": {"evaluations_per_s": 0.5, "over_the_run_per_s": 0.5}}
    >>> two = {**one, "raw_two_actors": {"evaluations_per_s": 1.25, "over_the_run_per_s": 1.0}}
    >>> figures = ratios([one, two])
    >>> figures["search_vs_raw"], figures["two_actors_vs_one"]
    ({'mean': 0.9, 'se': 0.1, 'per_round': [1.0, 0.8]}, {'mean': 2.0, 'se': 0.0, 'per_round': [2.0, 2.0]})
    >>> figures["over_the_run"]["search_vs_raw"]["mean"]
    0.9
    """
    def ratio(side: str, rate_key: str) -> dict:
        return over_the_rounds([one["search_two_actors"][rate_key] / one[side][rate_key]
                                for one in rounds])

    figures = {}
    for name, rate_key in (("steady", "evaluations_per_s"), ("whole", "over_the_run_per_s")):
        figures[name] = {"search_vs_raw": ratio("raw_two_actors", rate_key),
                         "two_actors_vs_one": ratio("raw_one_actor", rate_key)}
    return {**figures["steady"], "over_the_run": figures["whole"],
            "compute_alone_vs_paired": compute_alone_vs_paired(rounds)}


def compute_alone_vs_paired(rounds: list[dict]) -> dict | None:
    """What an evaluation's compiled calls cost on one actor alone over what they cost
    on each of two (the same batches; 1.0: sharing the machine costs nothing), as the
    mean over the rounds with its standard error; None when the actors report no time.

    >>> alone = {"raw_one_actor": {"compute_s_per_evaluation": 3.0},
    ...          "raw_two_actors": {"compute_s_per_evaluation": 2.5}}
    >>> compute_alone_vs_paired([alone, alone])
    {'mean': 1.2, 'se': 0.0, 'per_round': [1.2, 1.2]}
    """
    try:
        values = [one["raw_one_actor"]["compute_s_per_evaluation"]
                  / one["raw_two_actors"]["compute_s_per_evaluation"] for one in rounds]
    except (KeyError, ZeroDivisionError):
        return None
    return over_the_rounds(values)


def over_the_rounds(values: list[float]) -> dict:
    """A figure measured once per round: its mean, standard error (None for one round)
    and the values, rounded.

    >>> over_the_rounds([1.0, 1.2])
    {'mean': 1.1, 'se': 0.1, 'per_round': [1.0, 1.2]}
    """
    mean, se = mean_and_se(values)
    return {"mean": round(mean, 3), "se": round(se, 3) if math.isfinite(se) else None,
            "per_round": [round(value, 3) for value in values]}


def _rounded(figures: dict) -> dict:
    return {key: round(value, 3) if isinstance(value, float) else value
            for key, value in figures.items()}
