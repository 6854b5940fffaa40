"""The controller's dispatch without Ray: every batch recorded, each behaviour evaluated
once after an actor dies or the controller is killed, pending programs first on resume;
islands that exchange their best programs on a ring.

The real loop (:meth:`Search.run`) runs against a stand-in ``ray`` module (``wait``,
``get``, ``exceptions``) and actors in this process, so these tests take seconds; the
same properties on real Ray actors and processes are tests/test_search_e2e.py's.
"""

import hashlib
import math
import sqlite3
import sys
import types
from collections import Counter

import pytest

from dispatch_helpers import assert_each_result_stored_once, assert_went_again_once, \
    batches, query
from search.config import load_config_text
from search.controller import Search
import search.store as store_module
from search.store import RunStore


class ActorDied(Exception):
    """Stands for ``ray.exceptions.RayActorError``."""


class TaskFailed(Exception):
    """Stands for ``ray.exceptions.RayTaskError``."""


class Killed(BaseException):
    """The controller is gone (as after SIGKILL): nothing of it runs any more."""


class FakeRay(types.ModuleType):
    """``ray`` as the controller uses it: a batch finishes in the order it was sent.
    ``on_wait(n)`` is called at the n-th wait (from 1)."""

    def __init__(self):
        super().__init__("ray")
        self.exceptions = types.SimpleNamespace(
            RayActorError=ActorDied, WorkerCrashedError=ActorDied, RayTaskError=TaskFailed)
        self.waits = 0
        self.on_wait = None

    def wait(self, refs, num_returns=1, timeout=None):
        self.waits += 1
        if self.on_wait:
            self.on_wait(self.waits)
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref):
        if isinstance(ref, list):
            return [self.get(one) for one in ref]
        if isinstance(ref.value, Exception):
            raise ref.value
        return ref.value


class FakeRef:
    """A batch's future: its result, or the error its ``get`` raises."""

    def __init__(self, value):
        self.value = value


def fake_fitness(kind: str, source: str) -> float:
    return int(hashlib.sha256(f"{kind}:{source}".encode()).hexdigest()[:6], 16) / 2 ** 24 - 0.5


class FakeActor:
    """An evaluator actor in this process. It evaluates a batch when it is sent (logging
    ``(its name, kind, source)`` to ``ran``: where each evaluation happened), except the
    batches numbered ``die_holding`` (its n-th, from 1), which it holds when it dies:
    their results never come back."""

    def __init__(self, name, ran, die_holding=()):
        self.name, self.ran, self.die_holding = name, ran, set(die_holding)
        self.sent = 0
        self.bars = []  # per batch sent: (its sources, the bars it came with)
        self.evaluate = types.SimpleNamespace(remote=self._evaluate)

    def _evaluate(self, kind, sources, centres=None, hurdles=None, bars=None):
        self.sent += 1
        self.bars.append((sources, bars))
        if self.sent in self.die_holding:
            return FakeRef(ActorDied(f"{self.name} died"))
        self.ran.extend((self.name, kind, source) for source in sources)
        return FakeRef((self.name, [{"fitness": fake_fitness(kind, source), "losses": {"mlp": 1.0},
                            "task_fitness": {"mlp": 0.0}, "status": "ok", "reason": None,
                            "seconds": 0.0, "multipliers": None, "runs": 1.0}
                           for source in sources]))


@pytest.fixture
def fake_ray(monkeypatch):
    ray = FakeRay()
    monkeypatch.setitem(sys.modules, "ray", ray)  # the controller imports ray when it runs
    return ray


def config(max_programs, meta="{every: 0}", evaluator="", extra=""):
    return load_config_text(f"""seed: 0
population_size: 8
tournament_size: 3
evaluator: {{suite: mlp, seeds: [0], batch_size: 2{evaluator}}}
meta_validation: {meta}
stop: {{max_programs: {max_programs}}}
{extra}""", "<test>")


def quiet(message):
    pass


def source_of(run_dir, pid):
    return query(run_dir, "SELECT source FROM programs WHERE id=?", pid)[0][0]


def assert_fitness_of_the_behaviour(run_dir):
    """Every program joined, with the fitness its behaviour's one evaluation got."""
    rows = query(run_dir, "SELECT p.fitness, e.fitness, q.source FROM programs p "
                          "JOIN evaluations e ON e.fingerprint = p.fingerprint "
                          "AND e.suite = 'proxy' JOIN programs q ON q.id = e.program")
    assert len(rows) == query(run_dir, "SELECT COUNT(*) FROM programs")[0][0]
    assert all(joined == stored == fake_fitness("proxy", source)
               for joined, stored, source in rows)


def test_an_actor_that_dies_holding_two_batches_has_them_redone_once(tmp_path, fake_ray):
    ran = []
    search = Search.start(config(50, meta="{suite: mlp@meta10, every: 4, top_k: 2}"),
                          tmp_path / "run", log=quiet)
    actors = [FakeActor("a0", ran, die_holding={3, 4}), FakeActor("a1", ran)]
    assert search.run(actors=actors) == "program budget spent"
    search.store.close()

    sent = batches(tmp_path / "run")
    died = [b for b in sent if b["outcome"] == "died"]
    # The dispatch record shows the two batches a0 held when it died, with no result.
    assert [(b["actor"], b["attempt"], b["worker"]) for b in died] == [(0, 1, None)] * 2
    assert [b["id"] for b in died] == [b["id"] for b in sent if b["actor"] == 0][2:4]
    redone = assert_went_again_once(tmp_path / "run", [b["id"] for b in died])
    assert {b["attempt"] for b in redone} == {2}
    assert_each_result_stored_once(tmp_path / "run")
    assert_fitness_of_the_behaviour(tmp_path / "run")
    # Where the evaluations ran: each behaviour once on each suite, counted by the
    # actors themselves (the store keeps one evaluation per behaviour whatever happens).
    runs = Counter((kind, source) for _, kind, source in ran)
    assert max(runs.values()) == 1
    assert sum(1 for kind, _ in runs if kind == "meta") >= 2  # meta-validation ran too
    assert len(runs) == query(tmp_path / "run", "SELECT COUNT(*) FROM evaluations")[0][0]


def test_pending_programs_go_first_and_once_on_resume(tmp_path, fake_ray):
    ran = []
    killed = tmp_path / "killed"

    def kill(wait):  # copy the store as it is at this instant, then the controller is gone
        if wait == 5:
            killed.mkdir()
            copy = sqlite3.connect(killed / "run.sqlite")
            search.store.db.backup(copy)
            copy.close()
            raise Killed

    fake_ray.on_wait = kill
    search = Search.start(config(60), tmp_path / "run", log=quiet)
    with pytest.raises(Killed):
        search.run(actors=[FakeActor("a0", ran), FakeActor("a1", ran)])
    search.store.close()

    # Work was in flight at the kill: batches sent without a result and programs with
    # no fitness yet (those batches' programs, and twins waiting on them).
    in_flight = [b for b in batches(killed) if b["outcome"] is None]
    pending = query(killed, "SELECT id, fingerprint FROM programs WHERE joined IS NULL "
                            "ORDER BY id")
    assert len(in_flight) == 4  # two actors, two batches each
    assert {pid for b in in_flight for pid in b["programs"]} <= {pid for pid, _ in pending}
    evaluated_before = {fp for (fp,) in query(killed, "SELECT fingerprint FROM evaluations")}
    assert not evaluated_before & {fp for _, fp in pending}
    # The first program of each pending behaviour is evaluated again; its twins wait.
    first_of_each, seen = [], set()
    for pid, fp in pending:
        if fp not in seen:
            first_of_each.append(pid)
            seen.add(fp)
    last_before = max(b["id"] for b in batches(killed))

    fake_ray.on_wait, fake_ray.waits, ran[:] = None, 0, []
    resumed = Search.resume(RunStore.open(killed), config(60), log=quiet)
    assert resumed.run(actors=[FakeActor("b0", ran), FakeActor("b1", ran)]) == \
        "program budget spent"
    resumed.store.close()

    sent = batches(killed)
    assert [b["outcome"] for b in sent if b["id"] in {i["id"] for i in in_flight}] == \
        ["lost"] * 4
    assert_went_again_once(killed, [b["id"] for b in in_flight])
    # Re-dispatched before any new child: the first programs sent after the resume are
    # the pending behaviours, in the order they were made.
    after = [pid for b in sent if b["id"] > last_before for pid in b["programs"]]
    assert after[:len(first_of_each)] == first_of_each
    # Each evaluated exactly once after the resume (counted where the actors ran them),
    # nothing evaluated before the kill ran again, and each pending program joined with
    # its behaviour's fitness.
    runs = Counter(source for _, _, source in ran)
    assert all(runs[source_of(killed, pid)] == 1 for pid in first_of_each)
    assert max(runs.values()) == 1
    assert not {source_of(killed, pid) for (pid,) in query(
        killed, "SELECT program FROM evaluations WHERE fingerprint IN (%s)"
        % ",".join("?" * len(evaluated_before)), *evaluated_before)} & set(runs)
    assert_each_result_stored_once(killed)
    assert_fitness_of_the_behaviour(killed)
    assert query(killed, "SELECT COUNT(*), COUNT(joined) FROM programs")[0] == (60, 60)


@pytest.mark.parametrize("held_out", [False, True])
def test_with_held_out_seeds_each_child_is_sent_with_its_parents_fitness_as_its_bar(
        tmp_path, fake_ray, held_out):
    ran = []
    actors = [FakeActor("a0", ran), FakeActor("a1", ran)]
    search = Search.start(config(30, evaluator=", confirm_seeds: [5, 6]" if held_out else ""),
                          tmp_path / "run", log=quiet)
    assert search.run(actors=actors) == "program budget spent"
    search.store.close()
    sent = [(source, bar) for actor in actors for sources, bars in actor.bars
            for source, bar in zip(sources, bars or [None] * len(sources))]
    assert len(sent) == 30 - query(tmp_path / "run", "SELECT SUM(cache_hit) FROM programs")[0][0]
    if not held_out:
        assert {bar for _, bar in sent} == {None}
        return
    parents = dict(query(tmp_path / "run", "SELECT p.source, q.fitness FROM programs p "
                                           "LEFT JOIN programs q ON q.id = p.parent"))
    # The warm start has no parent: it is always confirmed.
    assert all(bar == (-math.inf if parents[source] is None else parents[source])
               for source, bar in sent)
    assert sum(parents[source] is not None for source, _ in sent) >= 10


@pytest.mark.parametrize("every", [0, 6])
def test_islands_receive_the_best_of_the_island_before_them(tmp_path, fake_ray, every):
    search = Search.start(config(120, extra=f"islands: 3\nmigration: {{every: {every}}}\n"),
                          tmp_path / "run", log=quiet)
    assert search.run(actors=[FakeActor("a0", []), FakeActor("a1", [])]) == \
        "program budget spent"
    search.store.close()
    run = tmp_path / "run"
    migrants = query(run, "SELECT m.id, m.island, m.joined, m.mutation, m.fitness, m.source, "
                          "p.id, p.island, p.fitness, p.source FROM programs m JOIN programs p "
                          "ON p.id = m.parent WHERE m.mutation LIKE 'migrant%' ORDER BY m.id")
    if not every:
        assert migrants == []
        return
    children = query(run, "SELECT COUNT(*) FROM programs WHERE joined IS NOT NULL AND "
                          "mutation NOT LIKE 'migrant%'")[0][0]
    # Every 6 children, each of the 3 islands receives one migrant (the last few
    # children joined after the program budget was spent: no migration then).
    assert len(migrants) % 3 == 0 and children // 6 - 3 <= len(migrants) // 3 <= children // 6
    for index, (_, island, _, mutation, fitness, source, parent, home, best,
                parent_source) in enumerate(migrants):
        # A copy of a program of the island before it on the ring, with its fitness...
        assert home == (island - 1) % 3 and mutation == f"migrant from island {home}"
        assert (fitness, source) == (best, parent_source)
        # ... the best of that island's population (its last 8 joined) as the exchange
        # began: the three islands exchange at once.
        began = migrants[index - index % 3][2]
        population = [f for (f,) in query(run, "SELECT fitness FROM programs WHERE island=? "
                                               "AND joined < ? ORDER BY joined", home, began)]
        assert best == max(population[-8:])
        assert [m[1] for m in migrants[index - index % 3:][:3]] == [0, 1, 2]
    assert_each_result_stored_once(run)


def assert_restarts_hold(run):
    """Each restart's population breeds only from itself: every child bred after a
    restart (and before the next) has a parent of that epoch."""
    restarts = [r for (r,) in query(run, "SELECT id FROM programs WHERE mutation LIKE "
                                         "'restart%' ORDER BY id")]
    assert len(restarts) >= 3
    for restart, following in zip(restarts, restarts[1:] + [math.inf]):
        parents = query(run, "SELECT parent FROM programs WHERE id > ? AND id < ? AND "
                             "mutation NOT LIKE 'restart%'", restart, following)
        assert parents and all(parent >= restart for (parent,) in parents), restart
    assert_fitness_of_the_behaviour(run)


def test_children_bred_before_a_restart_do_not_join_the_restarted_population(
        tmp_path, fake_ray):
    # Several batches are in flight when an island restarts; their children come back
    # after it. They keep their evaluations (every program has its fitness) but must not
    # join the new population, or the old lineage takes it back at once.
    search = Search.start(config(300, extra="restart: {plateau: 6}\n"), tmp_path / "run",
                          log=quiet)
    assert search.run(actors=[FakeActor("a0", []), FakeActor("a1", [])]) == \
        "program budget spent"
    search.store.close()
    run = tmp_path / "run"
    (first,) = query(run, "SELECT id FROM programs WHERE mutation LIKE 'restart%' "
                          "ORDER BY id LIMIT 1")[0]
    stale = query(run, "SELECT COUNT(*) FROM programs c JOIN programs r ON r.id = ? "
                       "WHERE c.id < r.id AND c.joined > r.joined", first)[0][0]
    assert stale > 0  # the case arises
    assert_restarts_hold(run)


def test_a_resumed_run_keeps_children_bred_before_a_restart_out(tmp_path, fake_ray):
    killed = tmp_path / "killed"

    def kill(wait):  # at the first wait after a restart with children of before in flight
        db = search.store.db
        stale = db.execute("SELECT COUNT(*) FROM programs c JOIN programs r ON c.id < r.id "
                           "WHERE r.mutation LIKE 'restart%' AND r.joined IS NOT NULL "
                           "AND c.joined IS NULL").fetchone()[0]
        if stale:
            killed.mkdir()
            copy = sqlite3.connect(killed / "run.sqlite")
            db.backup(copy)
            copy.close()
            raise Killed

    fake_ray.on_wait = kill
    settings = config(300, extra="restart: {plateau: 6}\n")
    search = Search.start(settings, tmp_path / "run", log=quiet)
    with pytest.raises(Killed):
        search.run(actors=[FakeActor("a0", []), FakeActor("a1", [])])
    search.store.close()
    fake_ray.on_wait = None
    resumed = Search.resume(RunStore.open(killed), settings, log=quiet)
    assert resumed.run(actors=[FakeActor("b0", []), FakeActor("b1", [])]) == \
        "program budget spent"
    resumed.store.close()
    assert_restarts_hold(killed)


class RecordingActor(FakeActor):
    """A fake actor that keeps every request whole (``calls``, shared between actors, in
    the order sent) and reports a step multiplier per program, so that children have
    centres to start from, and compute seconds per program: an uneven cost per source,
    times the actor's ``slowdown``."""

    def __init__(self, name, ran, calls, slowdown=1.0):
        super().__init__(name, ran)
        self.calls, self.slowdown = calls, slowdown
        self.pid = types.SimpleNamespace(remote=lambda: FakeRef(0))  # bench's drain

    def _evaluate(self, kind, sources, centres=None, hurdles=None, bars=None):
        self.calls.append((kind, list(sources), centres, hurdles, bars))
        ref = super()._evaluate(kind, sources, centres, hurdles, bars)
        for source, result in zip(sources, ref.value[1]):
            result["multipliers"] = {"mlp": 2.0 ** (int(fake_fitness("m", source) * 8))}
            result["seconds"] = (1.0 + fake_fitness("s", source)) * self.slowdown
        return ref


def test_the_bench_replays_exactly_the_requests_the_search_sent(tmp_path, fake_ray,
                                                                   monkeypatch):
    from search import benchmark

    calls = []
    search = Search.start(config(40, evaluator=", confirm_seeds: [5, 6]",
                                 extra="hurdle_margin: 0.05\n"), tmp_path / "run", log=quiet)
    assert search.run(actors=[RecordingActor("a0", [], calls),
                              RecordingActor("a1", [], calls)]) == "program budget spent"
    requests = benchmark.sent_requests(search)
    search.store.close()
    assert [tuple(request) for request in requests] == calls
    # The work differs from program to program: parentless and children, hurdles, bars.
    centres = [c for *_, cs, _, _ in calls for c in cs]
    assert None in centres and any(c is not None for c in centres)
    assert any(hurdles for *_, hurdles, _ in calls)

    # Replayed with no controller between, each request goes once, as it was.
    ticks = iter(range(10 ** 6))
    monkeypatch.setattr(benchmark.time, "time", lambda: float(next(ticks)))
    replayed = []
    actors = [RecordingActor(name, [], replayed) for name in ("r0", "r1")]
    settings = load_config_text("workers: {inflight: 2}", "<test>")
    rates = benchmark.raw_rate(actors, settings, requests)
    assert rates["evaluations_per_s"] > 0 and rates["over_the_run_per_s"] > 0
    assert replayed == calls


def test_a_bench_round_replays_the_search_on_both_actors_then_on_the_first(
        tmp_path, fake_ray, monkeypatch):
    from search import benchmark

    ticks = iter(range(10 ** 6))  # distinct clock readings: every rate is finite
    monkeypatch.setattr(benchmark.time, "time", lambda: float(next(ticks)))
    calls, ran = [], []
    actors = [RecordingActor(name, ran, calls) for name in ("a0", "a1")]
    settings = config(30, extra="workers: {inflight: 2}\n")
    measured = benchmark.measure_round(actors, settings)
    third = len(calls) // 3
    assert third > 4 and len(calls) == 3 * third
    assert calls[third:2 * third] == calls[:third] == calls[2 * third:]
    each = sum(len(sources) for _, sources, *_ in calls[:third])  # evaluations a side
    where = [name for name, *_ in ran]
    assert {*where[:each]} == {*where[each:2 * each]} == {"a0", "a1"}
    assert {*where[2 * each:]} == {"a0"}  # the one-actor replay: the first alone
    figures = benchmark.ratios([measured, measured])
    for name in ("search_vs_raw", "two_actors_vs_one", "compute_alone_vs_paired"):
        assert figures[name]["mean"] > 0 and figures[name]["se"] == 0.0
        assert figures[name]["per_round"] == [figures[name]["mean"]] * 2
    # The same batches cost the same compute on one actor as on two ...
    assert figures["compute_alone_vs_paired"]["mean"] == pytest.approx(1.0, abs=1e-3)


def test_the_bench_takes_a_searchs_batches_whole(tmp_path, fake_ray, monkeypatch):
    # The store stamps each evaluation as it writes it; under a clock that ticks at every
    # reading no two evaluations of a batch share a time, yet the bench must count each
    # batch as one arrival, with its evaluations and its evaluator's seconds (counting
    # a batch's later evaluations after its "first" overstated the search's rate).
    from search import benchmark

    ticks = iter(range(10 ** 6))
    monkeypatch.setattr(benchmark.time, "time", lambda: float(next(ticks)))
    monkeypatch.setattr(store_module.time, "time", lambda: float(next(ticks)))
    calls = []
    search = Search.start(config(30), tmp_path / "run", log=quiet)
    search.run(actors=[RecordingActor("a0", [], calls), RecordingActor("a1", [], calls)])
    batches, sent = benchmark.returned_batches(search.store)
    (evaluations,) = search.store.db.execute("SELECT COUNT(*) FROM evaluations").fetchone()
    search.store.close()
    proxy = [sources for kind, sources, *_ in calls if kind == "proxy"]
    assert sorted(b.evaluations for b in batches) == sorted(len(s) for s in proxy)
    assert sum(b.evaluations for b in batches) == evaluations > len(batches)
    assert sorted(round(b.seconds, 9) for b in batches) == sorted(
        round(sum(1.0 + fake_fitness("s", source) for source in s), 9) for s in proxy)
    assert sent <= min(b.finished for b in batches)


def test_the_bench_sees_an_actor_that_computes_slower_alone(tmp_path, fake_ray, monkeypatch):
    # ... and an actor whose compiled calls take longer shows above 1: the bench tells
    # the work's cost apart from the scheduling around it.
    from search import benchmark

    ticks = iter(range(10 ** 6))
    monkeypatch.setattr(benchmark.time, "time", lambda: float(next(ticks)))
    calls, ran = [], []
    actors = [RecordingActor("a0", ran, calls, slowdown=2.0), RecordingActor("a1", ran, calls)]
    measured = benchmark.measure_round(actors, config(30, extra="workers: {inflight: 2}\n"))
    compute = benchmark.ratios([measured])["compute_alone_vs_paired"]["mean"]
    assert 1.1 < compute < 2.0


@pytest.mark.parametrize("extra", ["", "restart: {plateau: 6}\n",
                                   "islands: 2\nmigration: {every: 5}\nrestart: {plateau: 6}\n"])
def test_the_live_populations_are_those_a_resume_would_rebuild(tmp_path, fake_ray, extra):
    # At every instant the controller could be killed, each island's population in
    # memory is the one `Search.resume` derives from the store: a resumed run goes on
    # from where the killed one was, while the islands fill up and across restarts.
    settings = config(150, extra=extra)
    search = Search.start(settings, tmp_path / "run", log=quiet)
    checked = []

    def compare(wait):
        for island in search.islands:
            live = [m.program_id for m in island.population]
            stored = [pid for pid, _ in search.store.population(island.index,
                                                                settings.population_size)]
            assert live == stored, (wait, island.index)
            checked.append(len(live))

    fake_ray.on_wait = compare
    assert search.run(actors=[FakeActor("a0", []), FakeActor("a1", [])]) == \
        "program budget spent"
    search.store.close()
    size = settings.population_size
    assert any(0 < n < size for n in checked) and size in checked  # filling, and full
    if extra:
        assert query(tmp_path / "run", "SELECT COUNT(*) FROM programs WHERE mutation "
                                       "LIKE 'restart%'")[0][0] >= 2
