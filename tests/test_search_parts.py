"""The search's parts: config validation, run store, evolution ops, breeder, actor plan."""

import random

import pytest

from programs.mutation import Mutator
from programs.parser import parse
from programs.printer import to_source
from programs.seed_programs import load_seed
from search.breeding import HIT, QUEUED, WAIT, Breeder
from search.config import ConfigError, load_config, load_config_text
from search.evolution import Island, Member, Population, Sample, Top, tournament
from search.store import RunStore, StoreError
from search.workers import DeviceError, plan_actors


# -- config ---------------------------------------------------------------------------

def test_shipped_configs_load():
    from search.warm_start import warm_start_program

    for name in ("quickstart", "rediscover", "gpu", "paper", "ladder/rung1",
                 "ladder/rung2", "ladder/rung3"):
        config = load_config(f"configs/{name}.yaml")
        warm_start_program(config.warm_start, config.evaluator.max_length)
    paper = load_config("configs/paper.yaml")
    assert (paper.population_size, paper.tournament_size, paper.warm_start) == (1000, 2, "adamw")
    assert paper.restart.plateau > 0


@pytest.mark.parametrize("text,message", [
    ("populaton_size: 3", "unknown key 'populaton_size'"),
    ("evaluator: {seedz: [1]}", "unknown key 'evaluator.seedz'"),
    ("population_size: 1", "population_size must be an integer >= 2"),
    ("islands: two", "islands: must be an integer"),
    ("stop: {time_limit_s: -5}", "stop.time_limit_s must be a number > 0"),
    ("evaluator: {device: quantum}", "evaluator.device must be cpu, gpu or null"),
    ("evaluator: {device: tpu}", "evaluator.device must be cpu, gpu or null"),
    ("workers: {gpus_per_actor: 2}", "workers.gpus_per_actor must be in (0, 1]"),
    ("evaluator: {suite: vit+mlp}", "evaluator.suite: unknown suite or task 'vit+mlp'"),
    ("meta_validation: {suite: mlp@meta1000}", "meta_validation.suite: unknown suite"),
    ("evaluator: {max_length: 8}\nmutation: {max_length: 9}",
     "evaluator.max_length (8) must be >= mutation.max_length (9)"),
    ("mutation: 3", "mutation must be a mapping"),
    ("hurdle_margin: -0.1", "hurdle_margin must be a number >= 0 or null"),
    ("migration: {every: -1}", "migration.every must be an integer >= 0 (0: never)"),
    ("stop: {at_first_lion: 1}", "stop.at_first_lion: must be true or false"),
    ("[1, 2]", "must be a mapping"),
    ("a: [", "not valid YAML"),
])
def test_bad_configs_name_the_key(text, message):
    with pytest.raises(ConfigError) as info:
        load_config_text(text, "c.yaml")
    assert str(info.value).startswith("c.yaml") and message in str(info.value)
    assert "\n" not in str(info.value)


def test_overrides():
    config = load_config_text("islands: 1", "c.yaml", ["islands=3", "stop.max_programs=9",
                                                       "evaluator.seeds=[4, 5]"])
    assert config.islands == 3 and config.stop.max_programs == 9
    assert config.evaluator.seeds == (4, 5)
    with pytest.raises(ConfigError, match="unknown key 'stop.max_progams'"):
        load_config_text("", "c.yaml", ["stop.max_progams=3"])
    with pytest.raises(ConfigError, match="expected key=value"):
        load_config_text("", "c.yaml", ["islands"])


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "none.yaml")


# -- run store -------------------------------------------------------------------------

SOURCE = "def train(w, g, lr):\n    u = g * 0.1\n    return u"


def add(store, island=0, fp="f", epoch_start=False):
    return store.add_program(SOURCE, None, "m", island, "s", fp, 1, 0, epoch_start)


def result(fitness, status="ok"):
    return {"fitness": fitness, "losses": {"mlp": 1.0}, "task_fitness": {"mlp": fitness},
            "status": status, "reason": None, "seconds": 0.1}


def test_population_is_derived_from_joins(tmp_path):
    store = RunStore.create(tmp_path / "run", {})
    seed = add(store, epoch_start=True)
    assert store.population(0, 3) == []
    store.add_evaluation("f", seed, "proxy", result(0.0), "w", [seed])
    assert store.population(0, 3) == [(seed, 0.0)]  # the first epoch fills up
    children = [add(store, fp=f"c{i}") for i in range(4)]
    store.join([children[0]], 0.0, cache_hit=True)
    assert [p for p, _ in store.population(0, 3)] == [seed, children[0]]
    for i, child in enumerate(children[1:], 1):
        store.join([child], 0.1 * i, cache_hit=True)
    assert [p for p, _ in store.population(0, 3)] == children[1:]
    in_flight = add(store, fp="late")
    restart = add(store, epoch_start=True)
    store.join([restart], 0.5, cache_hit=True)
    assert store.population(0, 3) == [(restart, 0.5)] * 3
    assert store.epoch_start(0) == restart and store.epoch_start(1) == 0
    # Bred before the restart, evaluated after it: kept, but not in the new population.
    store.join([in_flight], 0.9, cache_hit=False)
    after = add(store, fp="after")
    store.join([after], 0.1, cache_hit=True)
    assert store.population(0, 3) == [(restart, 0.5)] * 2 + [(after, 0.1)]
    assert store.program(in_flight)["fitness"] == 0.9
    assert store.population(1, 3) == []


def test_evaluations_are_stored_exactly_once(tmp_path):
    store = RunStore.create(tmp_path / "run", {})
    a, b = add(store, fp="x"), add(store, fp="x")
    assert store.add_evaluation("x", a, "proxy", result(0.2), "w", [a, b])
    assert not store.add_evaluation("x", b, "proxy", result(0.3), "w", [b])
    assert store.cached_fitness("x") == 0.2
    counts = store.counts()
    assert (counts["evaluations"], counts["joined"], counts["cache_hits"]) == (1, 2, 1)
    assert store.add_evaluation("x", a, "meta10", result(0.1), "w")  # another suite
    assert store.counts()["meta_evaluations"] == 1


def test_pending_programs_survive_reopening(tmp_path):
    store = RunStore.create(tmp_path / "run", {"seed": 3})
    pending = add(store, fp="p")
    store.close()
    again = RunStore.open(tmp_path / "run")
    assert [row[0] for row in again.pending_programs()] == [pending]
    assert again.config() == {"seed": 3}
    reader = RunStore.open_readonly(tmp_path / "run")
    assert reader.counts()["pending"] == 1


def test_missing_foreign_and_damaged_run_directories(tmp_path):
    with pytest.raises(StoreError, match="no such run directory"):
        RunStore.open(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StoreError, match="not a lion-search run"):
        RunStore.open_readonly(tmp_path / "empty")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "run.sqlite").write_text("not a database")
    with pytest.raises(StoreError, match="damaged or foreign"):
        RunStore.open(tmp_path / "foreign")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("keep me")
    with pytest.raises(StoreError, match="not empty"):
        RunStore.create(tmp_path / "full", {})
    assert (tmp_path / "full" / "notes.txt").read_text() == "keep me"


def test_batches_record_what_came_of_each(tmp_path):
    store = RunStore.create(tmp_path / "run", {})
    pid = add(store, epoch_start=True)
    died, ok, lost = (store.add_batch("proxy", actor, [pid]) for actor in (0, 1, 0))
    store.finish_batch(died, "died")
    store.finish_batch(died, "ok", "w")  # what came of a batch is written once
    with pytest.raises(RuntimeError):  # a batch's results and its record: all or none
        with store.transaction():
            store.add_evaluation("f", pid, "proxy", result(0.1), "w", [pid])
            store.finish_batch(ok, "ok", "w")
            raise RuntimeError("killed while storing")
    assert store.counts()["evaluations"] == 0 and store.pending_programs()
    with store.transaction():
        assert store.add_evaluation("f", pid, "proxy", result(0.1), "w", [pid])
        store.finish_batch(ok, "ok", "w")
    assert store.lose_unfinished_batches() == {("proxy", pid): 2}  # died, then lost
    rows = store.db.execute("SELECT actor, attempt, worker, outcome, rejected FROM batches "
                            "ORDER BY id").fetchall()
    assert rows == [(0, 1, None, "died", 0), (1, 1, "w", "ok", 0), (0, 1, None, "lost", 0)]
    assert store.program(pid)["fitness"] == 0.1


def test_corrupt_checkpoint_is_reported(tmp_path):
    store = RunStore.create(tmp_path / "run", {})
    store.save_checkpoint({"rng": [1]})
    store.db.execute("UPDATE checkpoints SET data='{broken'")
    with pytest.raises(StoreError, match="checkpoint is corrupt"):
        store.latest_checkpoint()


# -- evolution -------------------------------------------------------------------------

def members(*fitnesses):
    return [Member(i, None, f) for i, f in enumerate(fitnesses)]


def test_tournament_picks_the_best_of_its_sample():
    rng = random.Random(0)
    population = members(0.1, 0.9, 0.3, 0.2)
    assert tournament(4)(population, rng)[0].fitness == 0.9
    picks = [tournament(2)(population, rng)[0].program_id for _ in range(500)]
    assert picks.count(0) == 0  # the worst never wins a tournament of two
    assert 200 < picks.count(1) < 300  # the best wins whenever it is drawn: 1/2 of draws
    assert (Sample(3) >> Top(2))(population, rng)[0].fitness >= 0.2


def test_population_ages_out_the_oldest():
    population = Population(3, members(0.5, 0.1, 0.2))
    population.join(Member(9, None, 0.0))
    assert [m.program_id for m in population] == [1, 2, 9]  # 0 left, though it was best
    assert population.best().program_id == 2


def test_island_plateau_and_restart():
    island = Island(0, Population(2, members(0.0, 0.0)))
    for i in range(3):
        island.join(Member(10 + i, None, -0.1))
    assert island.plateaued(3) and not island.plateaued(0)
    island.restart(Member(99, None, 0.2))
    assert [m.program_id for m in island.population] == [99, 99]
    assert island.restarts == 1 and not island.plateaued(3)
    # A child bred before the restart (a smaller id) that comes back after it stays out,
    # however good; one bred from the new population joins.
    assert not island.join(Member(50, None, 0.9))
    assert [m.program_id for m in island.population] == [99, 99]
    assert island.best_fitness == 0.2 and island.since_improvement == 0
    assert island.join(Member(100, None, 0.3))
    assert [m.program_id for m in island.population] == [99, 100]


# -- breeder ---------------------------------------------------------------------------

def test_breeder_routes_new_waiting_and_cached_behaviours(tmp_path):
    store = RunStore.create(tmp_path / "run", {})
    breeder = Breeder(store, Mutator(), tournament_size=2)
    adamw = load_seed("adamw")
    first, fp, route = breeder.add(adamw, None, "seed", 0, epoch_start=True)
    assert route == QUEUED and breeder.queue[0][:2] == (fp, first)
    twin, fp2, route = breeder.add(adamw, None, "seed again", 0)
    assert (fp2, route) == (fp, WAIT) and breeder.waiting[fp] == [first, twin]
    entries = breeder.take(4)
    store.add_evaluation(fp, first, "proxy", result(0.0), "w", breeder.waiting.pop(fp))
    third, _, route = breeder.add(adamw, None, "seed once more", 0)
    assert route == HIT and store.program(third)["cache_hit"] == 1
    island = Island(0, Population(3, [breeder.member(first, 0.0)] * 3))
    joined = []
    for _ in range(30):
        joined += breeder.breed(island, random.Random(len(joined)))
    assert breeder.counters.generated == 30
    assert len(entries) == 1


def test_scale_free_breeder_shares_one_evaluation_between_scaled_twins(tmp_path):
    from search.config import load_config_text

    store = RunStore.create(tmp_path / "run", {})
    breeder = Breeder(store, Mutator(), tournament_size=2, scale_free=True)
    lion = load_seed("lion")
    quadrupled = parse(to_source(lion).replace("lr * 0.0001", "lr * 0.0004"))
    negated = parse(to_source(lion).replace("lr * 0.0001", "lr * -0.0001"))
    first, fp, route = breeder.add(lion, None, "seed", 0, epoch_start=True)
    twin, fp_twin, twin_route = breeder.add(quadrupled, first, "constant", 0)
    assert route == QUEUED and (fp_twin, twin_route) == (fp, WAIT)
    # A negative factor is another behaviour (an ascent), so it is evaluated on its own.
    assert breeder.add(negated, first, "constant", 0)[1] != fp
    store.add_evaluation(fp, first, "proxy", dict(result(0.1), multipliers={"vit": 8.0}),
                         "w", breeder.waiting.pop(fp))
    assert store.program(twin)["fitness"] == 0.1
    # The twin's updates are 4x larger, so its best multiplier is 4x smaller.
    assert store.multipliers(first) == {"vit": 8.0}
    assert store.multipliers(twin) == {"vit": pytest.approx(2.0)}
    # Without scale-free keys (fixed step size) the twins are two behaviours.
    plain = Breeder(RunStore.create(tmp_path / "plain", {}), Mutator(), tournament_size=2)
    assert plain.add(lion, None, "seed", 0)[1] != plain.add(quadrupled, None, "c", 0)[1]
    tuned = load_config_text("seed: 0", "<test>")
    assert tuned.evaluator.step_size == "tuned" and tuned.evaluator.tune_seeds == 1


def test_a_run_made_before_the_step_size_columns_still_opens(tmp_path):
    import sqlite3

    store = RunStore.create(tmp_path / "old", {})
    pid = add(store, epoch_start=True)
    store.add_evaluation("f", pid, "proxy", result(0.1), "w", [pid])
    store.close()
    db = sqlite3.connect(tmp_path / "old" / "run.sqlite")
    for table, column in (("programs", "update_scale"), ("evaluations", "multipliers"),
                          ("evaluations", "runs")):
        db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    db.execute("DROP TABLE batches")  # and before the dispatch records
    db.commit()
    db.close()
    reader = RunStore.open_readonly(tmp_path / "old")
    assert reader.multipliers(pid) is None and reader.program(pid)["fitness"] == 0.1
    reader.close()
    writer = RunStore.open(tmp_path / "old")  # resuming adds the columns, keeps the rows
    assert writer.multipliers(pid) is None and writer.counts()["evaluations"] == 1
    assert writer.add_program("def train(w, g, lr):\n    u = g * 0.1\n    return u", pid,
                              "m", 0, "s2", "f2", 1, 0, update_scale=2.0) == pid + 1
    assert writer.add_batch("proxy", 0, [pid + 1]) == 1  # the table is made on opening


def test_actor_plan():
    gpu = plan_actors({"CPU": 16.0, "GPU": 2.0}, requested=None, gpus_per_actor=0.5)
    assert (gpu.count, gpu.num_gpus) == (4, 0.5) and "XLA_FLAGS" not in gpu.env
    assert gpu.env == {"XLA_PYTHON_CLIENT_MEM_FRACTION": "0.450"}  # two actors share a GPU
    assert plan_actors({"CPU": 16.0, "GPU": 2.0}, None, gpus_per_actor=1.0).env == {}
    cpu = plan_actors({"CPU": 2.0}, requested=None, gpus_per_actor=1.0)
    assert (cpu.count, cpu.num_gpus) == (2, 0.0)
    assert "intra_op_parallelism_threads=1" in cpu.env["XLA_FLAGS"]
    assert plan_actors({"CPU": 8.0}, requested=3, gpus_per_actor=1.0).count == 3


def test_actor_plan_follows_the_evaluator_device():
    cluster = {"CPU": 16.0, "GPU": 2.0}
    assert plan_actors(cluster, None, 1.0, device="gpu").num_gpus == 1.0
    on_cpu = plan_actors(cluster, None, 1.0, device="cpu")
    assert (on_cpu.count, on_cpu.num_gpus, on_cpu.env["JAX_PLATFORMS"]) == (16, 0.0, "cpu")
    with pytest.raises(DeviceError, match=r"'gpu' but the Ray cluster has no GPU \(CPU 2\)"):
        plan_actors({"CPU": 2.0, "memory": 1e9}, None, 1.0, device="gpu")


def test_progress_rates_span_the_window_not_the_last_update(monkeypatch):
    import io

    from search.cli import progress

    clock = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    stream = io.StringIO()
    panel = progress.Progress(plain_every_s=0.0, stream=stream)
    snapshot = dict(elapsed=0.0, programs=0, evaluations=0, cache_hit_rate=0.0,
                    best_fitness=None, island_best=[], redundant_share=0.0)
    for second, evaluations in [(0, 0), (2, 4), (4, 4), (6, 4), (8, 8)]:
        clock[0] = float(second)
        panel.update(dict(snapshot, elapsed=second, programs=5 * evaluations,
                          evaluations=evaluations), store=None)
    lines = stream.getvalue().splitlines()
    # Evaluations land in batches of 4: between batches the rate is the window's, not 0.
    assert "evaluations 4 (1.0/s)" in lines[2] and "evaluations 8 (1.0/s)" in lines[4]
    clock[0] = 100.0  # the window slides: an old burst no longer counts
    panel.update(dict(snapshot, elapsed=100, programs=40, evaluations=8), store=None)
    assert "(0.0/s)" in stream.getvalue().splitlines()[-1]
