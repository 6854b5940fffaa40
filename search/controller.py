"""The search controller: steady-state, asynchronous regularized evolution on Ray.

One loop keeps every evaluator actor supplied with ``inflight`` batches (so no actor
waits on the controller), waits for whichever batch finishes first (``ray.wait``),
stores its results, lets the children join their islands, and breeds more. All state
that matters lives in the run store, written as it happens; a run killed at any instant
resumes from it (:meth:`Search.resume`): evaluated programs are never redone, programs
that were in flight are evaluated again, counters are counted from the rows. Every batch
is recorded before it is sent and again when its results (or its actor's death) come
back, so the store shows where each evaluation ran and that it ran once.

Example:
    $ lion-search run configs/quickstart.yaml --out runs/quick
"""

from __future__ import annotations

import json
import random
import signal
import time
from dataclasses import dataclass

from programs.mutation import MutationConfig, Mutator
from programs.lion_core import is_lion_family

from .breeding import HIT, QUEUED, Breeder
from .config import SearchConfig, config_to_dict
from .evolution import Island, Member, Population, ring_migrants
from .requests import META, PROXY, EvaluationRequests
from .store import RunStore
from .warm_start import warm_start_program
from .workers import start_actors

# Keys a resumed run may change: how it runs and when it stops, not what it searches.
OPERATIONAL_KEYS = {"stop", "workers", "ray", "checkpoint_every_s", "show_top"}


class EvaluatorFailure(RuntimeError):
    """An actor raised while evaluating (a fault in the evaluator, not a dead process).

    The search stops: the same batch would fail again. Its programs stay pending in the
    run store, so the run resumes once the cause is mended.
    """


@dataclass
class Job:
    """A batch in flight on one actor."""

    kind: str
    entries: list  # (fingerprint, program id, source)
    actor: int
    batch: int  # its row in the store's batches


class Search:
    """One search run over a run store. Use :meth:`start` or :meth:`resume`, then :meth:`run`."""

    def __init__(self, config: SearchConfig, store: RunStore, rng: random.Random,
                 progress=None, log=print, warm_start=None):
        self.config = config
        self.store = store
        self.requests = EvaluationRequests(config, store)
        self.rng = rng
        self.progress = progress
        self.log = log
        mutation = config.mutation
        self.breeder = Breeder(store, Mutator(MutationConfig(
            insert=mutation.insert, delete=mutation.delete, modify=mutation.modify,
            max_length=mutation.max_length, constant_prob=mutation.constant_prob)),
            config.tournament_size, scale_free=config.evaluator.step_size == "tuned")
        self.islands = [Island(i, Population(config.population_size))
                        for i in range(config.islands)]
        self.next_island = 0
        self.since_migration = 0  # children joined since the islands last exchanged
        self.elapsed_before = float(store.get_meta("elapsed", "0"))
        self.invalid_before = (store.last_stats() or {}).get("invalid", 0)
        self.started = time.monotonic()
        self.stopping = None  # why the run is ending, once it is
        self.interrupted = False
        self.jobs = {}
        self.sends = {}  # (kind, program id) -> times sent without a result yet
        self.actors = []
        self.meta_done = store.meta_validated()
        self.meta_pending = set()
        self.last_meta_at = 0
        self.warm_start = warm_start or warm_start_program(config.warm_start)
        first_lion = store.get_meta("first_lion")
        self.first_lion = json.loads(first_lion) if first_lion else None

    # -- starting and resuming ------------------------------------------------------

    @classmethod
    def start(cls, config: SearchConfig, directory, **kwargs) -> "Search":
        """A new run in ``directory``: each island starts from the warm start."""
        # Fail before creating files.
        warm_start = warm_start_program(config.warm_start, config.evaluator.max_length)
        store = RunStore.create(directory, config_to_dict(config))
        search = cls(config, store, random.Random(config.seed), warm_start=warm_start,
                     **kwargs)
        for island in search.islands:
            search.breeder.add(warm_start, None, f"warm start ({config.warm_start})",
                               island.index, epoch_start=True)
        return search

    @classmethod
    def resume(cls, store: RunStore, config: SearchConfig, **kwargs) -> "Search":
        """Continue the run in ``store``: populations and counters from its rows."""
        checkpoint = store.latest_checkpoint()
        if checkpoint is None:
            rng = random.Random(config.seed)
        else:
            rng = random.Random()
            version, internal, gauss = checkpoint["rng"]
            rng.setstate((version, tuple(internal), gauss))
        search = cls(config, store, rng, **kwargs)
        store.set_meta("stopped", "")  # running again
        for island in search.islands:
            rows = store.population(island.index, config.population_size)
            island.population = Population(config.population_size,
                                           [search.breeder.member(p, f) for p, f in rows])
            island.best_fitness = max((f for _, f in rows), default=float("-inf"))
            if checkpoint and str(island.index) in checkpoint["islands"]:
                island.restore(checkpoint["islands"][str(island.index)])
            island.epoch_start = store.epoch_start(island.index)
        if checkpoint:
            search.next_island = checkpoint["next_island"]
            search.since_migration = checkpoint.get("since_migration", 0)
        search.sends = store.lose_unfinished_batches()  # the killed controller's batches
        pending = store.pending_programs()
        for pid, source, fp, _ in pending:
            search.breeder.route(pid, fp, source)
        if pending:
            search.log(f"resuming: {len(pending)} program(s) that were in flight go again")
        return search

    # -- the loop -------------------------------------------------------------------

    def run(self, actors=None) -> str:
        """Search until a stop condition; returns why it stopped.

        ``actors``: evaluator actors to use (already warm, as the benchmark passes);
        by default the run starts its own.
        """
        import ray

        previous = signal.signal(signal.SIGINT, self._interrupt)
        try:
            if actors is None:
                self._start_actors()
            else:
                self.actors = list(actors)
            last_stats = last_checkpoint = time.monotonic()
            while True:
                self._check_stop()
                if self.interrupted or (self.stopping and not self.jobs):
                    break
                self._fill()
                if not self.jobs:
                    if self.stopping or not self._can_breed():
                        self.stopping = self.stopping or "nothing left to evaluate"
                        break
                    continue
                ready, _ = ray.wait(list(self.jobs), num_returns=1, timeout=0.5)
                for future in ready:
                    self._collect(future)
                now = time.monotonic()
                if now - last_stats >= 2.0:
                    self._record_stats()
                    last_stats = now
                if now - last_checkpoint >= self.config.checkpoint_every_s:
                    self.checkpoint()
                    last_checkpoint = now
            if not self.interrupted:
                self._final_meta_validation()
            if not self.interrupted:  # finished: a rediscovery does not run it again
                self.store.set_meta("stopped", self.stopping)
        finally:
            signal.signal(signal.SIGINT, previous)
            for job in self.jobs.values():  # stopped with them in flight: resume redoes them
                self.store.finish_batch(job.batch, "lost")
            self._record_stats()
            self.checkpoint()
        return "interrupted" if self.interrupted else self.stopping

    def _interrupt(self, signum, frame):
        self.interrupted = True
        self.stopping = "interrupted"

    def elapsed(self) -> float:
        return self.elapsed_before + time.monotonic() - self.started

    def _start_actors(self):
        plan, self.actors = start_actors(self.config)
        self.log(f"{plan.count} evaluator actor(s) ({plan.num_cpus:g} CPU, "
                 f"{plan.num_gpus:g} GPU each)")

    def _check_stop(self):
        stop = self.config.stop
        counts = self.store.counts()
        if stop.at_first_lion and self.first_lion is not None:  # the reason that says most
            self.stopping = self.stopping or "found a Lion-family program"
        if stop.time_limit_s and self.elapsed() >= stop.time_limit_s:
            self.stopping = self.stopping or "time limit"
        if stop.target_fitness is not None and counts["best_fitness"] is not None \
                and counts["best_fitness"] >= stop.target_fitness:
            self.stopping = self.stopping or "target fitness reached"
        if stop.max_evaluations and counts["evaluations"] >= stop.max_evaluations:
            self.stopping = self.stopping or "evaluation budget spent"
        if stop.max_programs and counts["programs"] >= stop.max_programs \
                and not self.breeder.queue and not self._proxy_jobs():
            self.stopping = self.stopping or "program budget spent"
        self.counts = counts

    def _proxy_jobs(self) -> int:
        return sum(1 for job in self.jobs.values() if job.kind == PROXY)

    def _can_breed(self) -> bool:
        return any(len(island.population) for island in self.islands) or \
            bool(self.breeder.queue)

    def _may_breed(self) -> bool:
        limit = self.config.stop.max_programs
        return not self.stopping and (not limit or self.store.program_count() < limit)

    def _submit_room(self) -> float:
        """How many more proxy evaluations may be submitted now."""
        if self.stopping:
            return 0
        limit = self.config.stop.max_evaluations
        if not limit:
            return float("inf")
        inflight = sum(len(job.entries) for job in self.jobs.values() if job.kind == PROXY)
        return limit - self.store.evaluation_count() - inflight

    def _fill(self):
        """Give every actor work until it has ``inflight`` batches."""
        size = self.config.evaluator.batch_size
        for index, actor in enumerate(self.actors):
            while sum(1 for job in self.jobs.values() if job.actor == index) < \
                    self.config.workers.inflight:
                if self.meta_pending and not self.stopping:
                    self._submit_meta(index, actor)
                    continue
                room = self._submit_room()
                if room <= 0:
                    return
                attempts = 0  # bounded: when nearly every child is a cache hit
                while len(self.breeder.queue) < size and attempts < 20 * size \
                        and self._may_breed():
                    self._breed_one()
                    attempts += 1
                if not self.breeder.queue:
                    return
                self._submit(PROXY, self.breeder.take(int(min(size, room))), index, actor)

    def _breed_one(self):
        self._migrate()
        island = self.islands[self.next_island]
        self.next_island = (self.next_island + 1) % len(self.islands)
        if not len(island.population):
            return
        for member in self.breeder.breed(island, self.rng):
            self._join(island, member)

    def _submit(self, kind, entries, index, actor):
        pids = [pid for _, pid, _ in entries]
        request = self.requests.request(kind, pids, [source for _, _, source in entries])
        attempt = 1 + max(self.sends.get((kind, pid), 0) for pid in pids)
        for pid in pids:
            self.sends[kind, pid] = self.sends.get((kind, pid), 0) + 1
        batch = self.store.add_batch(kind, index, pids, attempt)  # before it can run
        future = actor.evaluate.remote(*request)
        self.jobs[future] = Job(kind, entries, index, batch)

    def _submit_meta(self, index, actor):
        entries = [self.meta_pending.pop() for _ in range(
            min(len(self.meta_pending), self.config.evaluator.batch_size))]
        self._submit(META, entries, index, actor)

    def _collect(self, future):
        import ray

        job = self.jobs.pop(future)
        try:
            worker, results = ray.get(future)
        except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as err:
            self.store.finish_batch(job.batch, "died")
            self.log(f"evaluator actor-{job.actor} died ({type(err).__name__}); "
                     f"its batch of {len(job.entries)} goes to another actor")
            if job.kind == PROXY:
                self.breeder.requeue(job.entries)
            else:
                self.meta_pending.update(job.entries)
            return
        except ray.exceptions.RayTaskError as err:
            self.store.finish_batch(job.batch, "failed")
            cause = getattr(err, "cause", None) or err
            first_line = (str(cause).strip().splitlines() or [""])[0]
            raise EvaluatorFailure(f"evaluator actor-{job.actor} failed: "
                                   f"{type(cause).__name__}: {first_line}") from None
        with self.store.transaction():  # a batch's results and its record: all or none
            rejected = self._store_results(job, worker, results)
            self.store.finish_batch(job.batch, "ok", worker, rejected)
        if rejected:
            self.log(f"batch {job.batch}: {rejected} result(s) were already stored")
        self._maybe_meta_validate()

    def _store_results(self, job: Job, worker: str, results: list) -> int:
        """Store a batch's results, its programs join; returns how many results the
        store already held (a batch that ran twice)."""
        rejected = 0
        for (fp, pid, _), result in zip(job.entries, results):
            self.sends.pop((job.kind, pid), None)
            if job.kind == META:
                rejected += not self.store.add_evaluation(
                    fp, pid, self.config.meta_validation.suite, result, worker)
                self.meta_done.add(fp)
                continue
            joiners = self.breeder.waiting.pop(fp, [pid])
            if not self.store.add_evaluation(fp, pid, PROXY, result, worker, joiners):
                rejected += 1
                continue
            if result["status"] == "ok":
                self._note_if_first_lion(pid)
            for joiner in joiners:
                row = self.store.program(joiner)
                self._join(self.islands[row["island"]], self.breeder.member(joiner,
                                                                            row["fitness"]))
        return rejected

    def _note_if_first_lion(self, pid: int):
        """Record (once) the first evaluated program that is Lion-family."""
        if self.first_lion is not None or not is_lion_family(self.breeder.program(pid)):
            return
        self.first_lion = {"program": pid, "evaluations": self.store.evaluation_count(),
                           "programs": self.store.program_count(),
                           "elapsed_s": round(self.elapsed(), 1)}
        self.store.set_meta("first_lion", json.dumps(self.first_lion))
        self.log(f"first Lion-family program: {pid}, after {self.first_lion['evaluations']} "
                 f"evaluations and {self.first_lion['elapsed_s']:.0f} s")

    def _join(self, island: Island, member: Member):
        if not island.join(member):  # bred before the island's last restart
            return
        if island.plateaued(self.config.restart.plateau):
            self._restart(island)
        self.since_migration += 1

    def _migrate(self):
        """Every ``migration.every`` children, each island receives a copy of the best of
        the island before it (a new program row, the migrant its parent), a cache hit
        that joins at once. Called before breeding, when every child whose result came
        back has joined, so the islands are as their rows say."""
        every = self.config.migration.every
        if not every or self.since_migration < every:
            return
        self.since_migration = 0
        for island, migrant in ring_migrants(self.islands):
            if not self._may_breed():
                return
            source = self.store.program(migrant.program_id)["island"]
            pid, _, route = self.breeder.add(migrant.program, migrant.program_id,
                                             f"migrant from island {source}", island.index)
            if route == HIT:
                island.join(self.breeder.member(pid, self.store.program(pid)["fitness"]))

    def _restart(self, island: Island):
        if not self._may_breed():  # stopping, or the program budget is spent
            return
        from_best = island.restarts % 2 == 1
        if from_best:
            top = self.store.top_programs(1)
            program, parent, what = self.breeder.program(top[0]["program"]), \
                top[0]["program"], "restart from the best"
        else:
            program, parent, what = self.warm_start, None, "restart from the warm start"
        pid, fp, route = self.breeder.add(program, parent, what, island.index, epoch_start=True)
        if route == QUEUED or self.store.program(pid)["fitness"] is None:
            return  # joins when evaluated
        island.restart(self.breeder.member(pid, self.store.program(pid)["fitness"]))
        self.log(f"island {island.index}: {what} after a plateau")

    def _maybe_meta_validate(self):
        every = self.config.meta_validation.every
        evaluations = self.counts["evaluations"]
        if every and evaluations - self.last_meta_at >= every:
            self.last_meta_at = evaluations
            self._queue_meta()

    def _queue_meta(self):
        queued = {fp for fp, _, _ in self.meta_pending} | {
            fp for job in self.jobs.values() if job.kind == META for fp, _, _ in job.entries}
        for top in self.store.top_programs(self.config.meta_validation.top_k):
            if top["fingerprint"] not in self.meta_done | queued:
                source = self.store.program(top["program"])["source"]
                self.meta_pending.add((top["fingerprint"], top["program"], source))

    def _final_meta_validation(self):
        import ray

        if not self.config.meta_validation.every:
            return
        self._queue_meta()
        while self.meta_pending or self.jobs:
            for index, actor in enumerate(self.actors):
                if self.meta_pending and not any(j.actor == index for j in self.jobs.values()):
                    self._submit_meta(index, actor)
            if self.interrupted:
                return
            ready, _ = ray.wait(list(self.jobs), num_returns=1, timeout=0.5)
            for future in ready:
                self._collect(future)

    # -- bookkeeping ----------------------------------------------------------------

    def snapshot(self) -> dict:
        counts = self.store.counts()
        elapsed = self.elapsed()
        return dict(counts, elapsed=elapsed,
                    island_best=[island.best_fitness for island in self.islands],
                    restarts=[island.restarts for island in self.islands],
                    invalid=self.invalid_before + self.breeder.mutator.invalid,
                    inflight=sum(len(j.entries) for j in self.jobs.values()))

    def _record_stats(self):
        snapshot = self.snapshot()
        self.store.add_stats(snapshot["elapsed"], snapshot)
        if self.progress:
            self.progress.update(snapshot, self.store)

    def checkpoint(self):
        version, internal, gauss = self.rng.getstate()
        self.store.save_checkpoint({
            "rng": [version, list(internal), gauss], "next_island": self.next_island,
            "since_migration": self.since_migration,
            "islands": {str(i.index): i.state() for i in self.islands}})
        self.store.set_meta("elapsed", repr(self.elapsed()))
