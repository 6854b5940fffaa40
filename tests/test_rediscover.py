"""`lion-search rediscover`: the table and JSON, growing and resuming an experiment after
a kill, and bad input. The searches are slow (each starts Ray and compiles the smoke
task); they run in CI all the same."""

import dataclasses
import json
import signal
import subprocess
import sys

import pytest

from search.cli import main
from search.config import config_to_dict, load_config
from search.rediscover import DONE, NEW, seed_state, summarize
from tests.test_search_e2e import lion_search, query, wait_for

# Lion's core with a clip on the step: Lion-family from the first evaluation, and the
# measured simplification can strip the clip (sign(c) clipped at 0.5 is 0.5 sign(c), the
# same rule at a tuned step size; with a weight decay beside it, the clip would also
# halve the sign step against the decay, and stay).
LION_WITH_A_CLIP = """def train(w, g, m, v, lr):
    c = interp(g, m, 0.9)
    s = sign(c)
    s = clip(s, 0.5)
    lr = lr * 0.0001
    u = s * lr
    m = interp(g, m, 0.99)
    return u, m, v
"""


def write_config(tmp_path, warm_start="adamw", budget=60, programs=None):
    path = tmp_path / "rediscover.yaml"
    path.write_text(f"""warm_start: {warm_start}
population_size: 8
tournament_size: 3
evaluator: {{suite: mlp, seeds: [0, 1], batch_size: 2}}
meta_validation: {{suite: mlp@meta10, every: 0}}
stop: {{time_limit_s: {budget}{f", max_programs: {programs}" if programs else ""}}}
checkpoint_every_s: 1
""")
    return path


def run_cli(*args, env=None, timeout=600):
    """``lion-search ARGS`` in a subprocess (``env``: its environment, None: this one's):
    ``(status, stdout, stderr)``."""
    done = subprocess.run([sys.executable, "-m", "search.cli", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.slow
def test_found_at_once_with_its_simplified_form_then_one_more_seed(tmp_path):
    warm = tmp_path / "lion_clip.py"
    warm.write_text(LION_WITH_A_CLIP)
    # A generous budget: the warm start is found at once, the budget only bounds it.
    config, out = write_config(tmp_path, warm_start=warm, budget=300), tmp_path / "exp"
    code, stdout, stderr = run_cli("rediscover", config, "--seeds", 1, "--out", out,
                                   "--simplify-suite", "mlp", "--json")
    assert code == 0, stderr
    last = json.loads(stdout.strip().splitlines()[-1])
    assert (last["seeds"], last["found"], last["rate"]) == (1, 1, 1.0)
    run = last["runs"][0]
    assert run["kind"] == "Lion core with extras" and run["evaluations_to_lion"] == 1
    assert (run["b1"], run["b2"]) == (0.9, 0.99) and run["weight_decay"] == 0.0
    assert run["simplified"]["kind"] == "Lion" and "clip" not in run["simplified"]["source"]
    assert run["simplified"]["measured_evaluations"] > 0
    assert run["stopped"] == "found a Lion-family program"
    # The warm start: no parent, no hurdle, scored on the config's two seeds.
    assert (run["parent_fitness"], run["stopped_at_hurdle"], run["fitness_seeds"]) == \
        (None, False, 2)
    assert "rediscovery" in stdout and "found 1 of 1 (rate 100%)" in stdout
    assert "Lion core with extras" in stdout
    # The seed's progress lines show its time budget and the ETA to it.
    assert any(line.startswith("elapsed ") and "/5m00s | programs " in line
               and "(time limit)" in line for line in stdout.splitlines()), stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["median_time_to_lion_s"] == run["time_to_lion_s"]
    assert "| seed |" in (out / "summary.md").read_text()

    # Resuming with more seeds runs only the new one; the first is not redone.
    before = (out / "seed-0" / "result.json").read_text()
    code, stdout, stderr = run_cli("rediscover", config, "--seeds", 2, "--out", out,
                                   "--simplify-suite", "mlp", "--resume", "--json")
    assert code == 0, stderr
    last = json.loads(stdout.strip().splitlines()[-1])
    assert (last["seeds"], last["found"]) == (2, 2)
    assert (out / "seed-0" / "result.json").read_text() == before
    assert "seed 0: starting" not in stdout and "seed 1: starting" in stdout


@pytest.mark.slow
def test_killed_experiment_resumes_with_nothing_lost(tmp_path):
    # Each seed ends at its program budget, whatever the machine's speed; the time budget
    # only bounds it (a 40 s budget on a loaded machine could end seed 0 before the kill).
    # Seeds 3 and 4 (--first-seed): the part of an experiment split across machines.
    config, out = write_config(tmp_path, budget=600, programs=16), tmp_path / "exp"
    run = lion_search("rediscover", str(config), "--seeds", "2", "--first-seed", "3",
                      "--out", str(out), "--simplify-suite", "none", "--json")
    wait_for(out / "seed-3", "SELECT COUNT(*) FROM evaluations", 2)
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=60)
    before = query(out / "seed-3", "SELECT fingerprint, fitness FROM evaluations")
    programs = query(out / "seed-3", "SELECT COUNT(*) FROM programs")[0][0]
    assert before and programs < 16 and not (out / "summary.json").exists()
    assert not (out / "seed-3" / "result.json").exists()  # it was still searching

    code, stdout, stderr = run_cli("rediscover", config, "--seeds", 2, "--first-seed", 3,
                                   "--out", out, "--simplify-suite", "none", "--resume",
                                   "--json")
    assert code == 0, stderr
    assert "2 seed(s) (3..4)" in stdout and "seed 3: resuming" in stdout
    after = query(out / "seed-3", "SELECT fingerprint, fitness FROM evaluations")
    assert set(before) <= set(after) and len(after) > len(before)
    assert query(out / "seed-3", "SELECT COUNT(*) FROM programs")[0][0] == 16
    assert sorted(p.name for p in out.glob("seed-*")) == ["seed-3", "seed-4"]
    last = json.loads(stdout.strip().splitlines()[-1])
    assert (last["seeds"], last["found"], last["rate"]) == (2, 0, 0.0)
    assert [row["seed"] for row in last["runs"]] == [3, 4]
    for row in last["runs"]:
        assert row["stopped"] == "program budget spent" and row["programs"] == 16
        assert row["best"]["source"].startswith("def train(")
    assert "found 0 of 2 (rate 0%)" in stdout


# The whole line on stderr after "lion-search rediscover: "; one ending in "..." only
# starts so (a list of allowed keys or suites follows).
@pytest.mark.parametrize("args, message", [
    (["--seeds", "0"], "--seeds must be >= 1, not 0"),
    (["--seeds", "1", "--set", "populaton_size=3"],
     "{config}: unknown key 'populaton_size' (allowed: ..."),
    (["--seeds", "1", "--set", "stop.time_limit_s=null"],
     "{config}: no time budget: give --budget-s or set stop.time_limit_s"),
    (["--seeds", "1", "--budget-s", "0"], "--budget-s must be > 0, not 0.0"),
    (["--seeds", "1", "--first-seed", "-1"], "--first-seed must be >= 0, not -1"),
    (["--seeds", "1", "--simplify-suite", "nosuch"],
     "--simplify-suite: unknown suite or task 'nosuch'; suites: ..."),
    (["--seeds", "1", "--set", "warm_start=nosuch.py"], "nosuch.py: no such file"),
    (["--seeds", "1", "--resume"], "{out}: not a rediscovery experiment (no rediscover.json)"),
])
def test_bad_input_is_one_line_and_creates_nothing(tmp_path, capsys, args, message):
    config, out = write_config(tmp_path), tmp_path / "exp"
    status = main(["rediscover", str(config), "--out", str(out), *args])
    printed, err = capsys.readouterr()
    assert (status, printed) == (2, "") and err.count("\n") == 1, err
    expected = "lion-search rediscover: " + message.format(config=config, out=out)
    if expected.endswith("..."):
        assert err.startswith(expected[:-3]), err
    else:
        assert err == expected + "\n"
    assert not out.exists()


def test_an_experiment_resumes_only_with_its_own_config(tmp_path, capsys):
    config, out = write_config(tmp_path), tmp_path / "exp"
    out.mkdir()
    other = config_to_dict(load_config(config, ["population_size=99"]))
    (out / "rediscover.json").write_text(json.dumps({
        "config_file": "old.yaml", "seeds": 1, "budget_s": 60, "simplify_suite": None,
        "config": other}))
    assert main(["rediscover", str(config), "--seeds", "1", "--out", str(out),
                 "--resume"]) == 2
    assert capsys.readouterr() == ("", "lion-search rediscover: the config's "
                                   "'population_size' differs from the experiment's (8 vs "
                                   "99); resume with the experiment's config (old.yaml)\n")
    assert main(["rediscover", str(config), "--seeds", "1", "--out", str(out)]) == 2
    assert capsys.readouterr() == ("", f"lion-search rediscover: {out}: already holds a "
                                   "rediscovery experiment; use --resume to continue it or "
                                   "choose another --out\n")


def test_an_experiment_resumes_only_from_its_own_first_seed(tmp_path, capsys):
    # Seeds 2..4 split off to another machine: resumed from seed 0, its summary would
    # leave them out and run seeds 0 and 1 besides.
    config, out = write_config(tmp_path), tmp_path / "exp"
    out.mkdir()
    stored = config_to_dict(load_config(config))
    (out / "rediscover.json").write_text(json.dumps({
        "config_file": str(config), "seeds": 3, "first_seed": 2, "budget_s": 60,
        "simplify_suite": None, "config": stored}))
    assert main(["rediscover", str(config), "--seeds", "3", "--out", str(out),
                 "--resume"]) == 2
    assert capsys.readouterr() == ("", "lion-search rediscover: the experiment's seeds "
                                   "start at 2, not 0; resume with --first-seed 2\n")


def test_an_experiment_made_before_migration_existed_resumes_as_it_ran(tmp_path):
    from search.controller import OPERATIONAL_KEYS
    from search.rediscover import RediscoverError, check_resumable

    config = load_config(write_config(tmp_path))
    old = config_to_dict(config)
    del old["migration"]  # as the manifests of experiments before the key was added
    stored = {"config_file": "old.yaml", "config": old}
    check_resumable(stored, {"config": config_to_dict(config)}, OPERATIONAL_KEYS)
    migrating = config_to_dict(dataclasses.replace(
        config, migration=dataclasses.replace(config.migration, every=50)))
    with pytest.raises(RediscoverError, match="'migration' differs from the experiment's "
                                              r"\(\{'every': 50\} vs \{'every': 0\}\)"):
        check_resumable(stored, {"config": migrating}, OPERATIONAL_KEYS)


def test_summary_counts_unfound_seeds_as_never():
    runs = [{"seed": 0, "found": True, "time_to_lion_s": 10.0, "evaluations_to_lion": 5},
            {"seed": 1, "found": False}, {"seed": 2, "found": False}]
    summary = summarize(runs)
    assert (summary["found"], summary["rate"]) == (1, 1 / 3)
    assert summary["median_time_to_lion_s"] is None  # fewer than half found Lion
    assert summarize(runs[:2])["median_time_to_lion_s"] is None
    assert summarize(runs[:1])["median_evaluations_to_lion"] == 5


def test_a_kept_result_stands_for_a_seed_whose_store_is_gone(tmp_path):
    # Seeds split across machines, or stores removed once described: result.json alone
    # marks the seed done, but only for the budget it ran under (or once it found Lion).
    seed = tmp_path / "seed-0"
    assert seed_state(tmp_path, 0, 60.0) == NEW
    seed.mkdir()
    (seed / "result.json").write_text(json.dumps({"seed": 0, "found": False,
                                                  "budget_s": 60.0}))
    assert seed_state(tmp_path, 0, 60.0) == DONE
    assert seed_state(tmp_path, 0, 120.0) == NEW  # a larger budget: that seed searches again
    (seed / "result.json").write_text(json.dumps({"seed": 0, "found": True,
                                                  "budget_s": 60.0}))
    assert seed_state(tmp_path, 0, 120.0) == DONE
    (seed / "result.json").write_text("{not json")
    assert seed_state(tmp_path, 0, 60.0) == NEW


def test_a_result_the_run_store_contradicts_is_described_again(tmp_path):
    # A seed resumed with a larger budget found Lion, and was killed before its result
    # (written at the smaller budget: not found) was rewritten: the store's word wins.
    from search.rediscover import STOPPED, seed_directory
    from search.store import RunStore

    directory = seed_directory(tmp_path, 0)
    store = RunStore.create(directory, {"seed": 0})
    store.set_meta("stopped", "first Lion-family program")
    store.set_meta("elapsed", "90.0")
    store.close()
    result = directory / "result.json"
    result.write_text(json.dumps({"seed": 0, "found": False, "budget_s": 120.0}))
    assert seed_state(tmp_path, 0, 120.0) == DONE  # the store has not found Lion either
    store = RunStore.open(directory)
    store.set_meta("first_lion", json.dumps({"program": 2, "evaluations": 2,
                                             "programs": 2, "elapsed_s": 90.0}))
    store.close()
    assert seed_state(tmp_path, 0, 120.0) == STOPPED
    result.write_text(json.dumps({"seed": 0, "found": True, "budget_s": 60.0}))
    assert seed_state(tmp_path, 0, 120.0) == DONE


@pytest.mark.parametrize("reason, seeds, judged", [
    ("stopped at the hurdle: +0.0840 at its centre on 1 seed(s), below +0.1360", 1,
     "Lion, stopped at the hurdle"),
    (None, 12, "Lion (+0.2000 on 12 seeds; parent +0.1200)")])
def test_a_found_lion_says_how_the_search_judged_it(tmp_path, reason, seeds, judged):
    from programs.seed_programs import load_seed
    from search.cli.rediscover import table_rows
    from search.rediscover import describe_seed, seed_directory
    from search.store import RunStore
    from tests.inspect_helpers import _add, _result

    store = RunStore.create(seed_directory(tmp_path, 0), {"seed": 0})
    parent, fp = _add(store, load_seed("signum"), None, "warm start")
    store.add_evaluation(fp, parent, "proxy", _result(0.12, {"vit": 0.9}) | {"seeds": 12},
                         "w0", [parent])
    lion, fp = _add(store, load_seed("lion"), parent, "modify")
    fitness = 0.084 if reason else 0.2
    store.add_evaluation(fp, lion, "proxy", _result(fitness, {"vit": 0.8}, reason=reason)
                         | {"seeds": seeds}, "w0", [lion])
    store.set_meta("first_lion", json.dumps({"program": lion, "evaluations": 2,
                                             "programs": 2, "elapsed_s": 5.0}))
    store.close()
    run = describe_seed(tmp_path, 0, 60.0, simplify_suite=None, log=lambda _: None)
    assert (run["found"], run["program"], run["parent_fitness"]) == (True, lion, 0.12)
    assert (run["stopped_at_hurdle"], run["fitness_seeds"]) == (reason is not None, seeds)
    assert table_rows({"runs": [run]})[0][1] == judged
