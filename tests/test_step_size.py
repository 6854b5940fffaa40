"""The tuned fitness: the step-size search, the evaluator at each program's best
multiplier, the fixed mode pinned, and the landscape bench's answer."""

import dataclasses
import math

import numpy as np
import pytest

from evaluators.fitness import WORST_FITNESS
from evaluators.step_size import MAX_INDEX, StepSizeSearch, grid_index, grid_value, run_search
from evaluators.suite import EvaluatorConfig, SuiteEvaluator
from evaluators.tasks import get_task
from programs.seed_programs import load_seed
from tests.conftest import program

TASK = get_task("mlp", steps=25, hidden=16, train_size=512, val_size=256)


def bowl(optimum_index, blow_up_above=None):
    """A loss with its minimum at grid point ``optimum_index``, NaN past a threshold."""
    def loss(s):
        k = 2 * math.log2(s)
        if blow_up_above is not None and k > blow_up_above:
            return math.nan
        return (k - optimum_index) ** 2 + 1.0
    return loss


@pytest.mark.parametrize("centre, optimum", [(1.0, 0), (1.0, 3), (1.0, -2), (4.0, 1),
                                             (0.01, -9), (1.0, 17), (1.0, -23)])
def test_search_finds_the_grid_optimum_with_sqrt2_neighbours(centre, optimum):
    search = run_search(bowl(optimum), centre)
    assert search.best_index == optimum
    probed = set(search.losses)
    # Spacing sqrt(2) at the optimum: both neighbours were trained.
    assert {optimum - 1, optimum + 1} <= probed
    # It covered at least 16x around its centre.
    start = grid_index(centre)
    assert {start - 4, start + 4} <= probed


def test_search_costs_five_probes_when_the_centre_is_best():
    assert sorted(run_search(bowl(0), 1.0).losses) == [-4, -1, 0, 1, 4]
    # An edge best extends the search: an optimum far away is still found.
    far = run_search(bowl(30), 1.0)
    assert far.best_index == 30 and len(far.losses) > 7


def collapse_plateau(valley_index):
    """A signum trained without a learning rate: a valley at ``valley_index``, and above
    about 2 ** -3 a collapse to chance whose losses wiggle in the noise (2.25..3.04 as
    measured on the 4,800-step ViT), a local minimum at 1/4 included."""
    def loss(s):
        k = 2 * math.log2(s)
        if k >= -5:
            return {-4: 2.25, 0: 2.30, 4: 3.04}.get(k, 2.28 + 0.01 * math.sin(k))
        return 0.3 + 0.05 * (k - valley_index) ** 2
    return loss


def test_without_a_centre_the_first_round_scans_wide_and_finds_a_far_valley():
    # Started at 1, the search settles in the collapse's noise, as the landscape did.
    assert run_search(collapse_plateau(-20), 1.0).best_index == -4
    # Without a centre (a program read from a file) it scans 2 ** -12 .. 2 ** 6 first.
    wide = run_search(collapse_plateau(-20), None)
    assert wide.best_index == -20 and {-21, -19} <= set(wide.losses)
    assert set(range(-24, 13, 4)) <= set(wide.losses)
    # On a bowl it ends where a centred search ends; its edge still extends.
    for optimum in (0, 7, -13, 21):
        assert run_search(bowl(optimum), None).best_index == optimum


def test_blow_up_is_a_score_and_the_best_sits_below_it():
    search = run_search(bowl(10, blow_up_above=3), 1.0)
    assert search.best_index == 3
    assert math.isinf(search.losses[4])


def test_a_program_that_blows_up_everywhere_gives_up():
    search = run_search(lambda s: math.nan, 1.0)
    assert search.done and search.best is None and len(search.losses) <= 5


def test_grid_is_absolute_and_bounded():
    assert grid_value(grid_index(3.0)) == pytest.approx(2.828, rel=1e-3)
    assert grid_index(1e30) == MAX_INDEX and grid_index(0.0) == 0
    with pytest.raises(ValueError, match="not a pending probe"):
        StepSizeSearch(1.0).record(3.0, 1.0)


@pytest.fixture(scope="module")
def tuned():
    return SuiteEvaluator(EvaluatorConfig(suite=(TASK,), seeds=(0, 1), batch_size=3,
                                          max_length=16, step_size="tuned"))


def lion_with_step(constant):
    return program(f"""
        def train(w, g, m, v, lr):
            c = interp(g, m, 0.9)
            update = sign(c)
            step = lr * {constant}
            update = update * step
            m = interp(g, m, 0.99)
            return update, m, v
    """)


def test_warm_start_scores_zero_when_tuned(tuned):
    result = tuned.evaluate([load_seed("adamw")])[0]
    assert result.fitness == 0.0 and result.status == "ok"
    assert result.multipliers == tuned.reference_multipliers
    # A file has no centre: the 10 probes of the wide scan on the one tuning seed, 3
    # more around its best (AdamW's best here is 3 half-steps from 1, one from the
    # scan's 4x), then the second seed once: 13 / 2 + 1 / 2 plain evaluations.
    assert result.runs == pytest.approx(7.0)


def test_a_program_and_its_4x_twin_get_the_same_tuned_fitness(tuned):
    # Powers of two, so that the scaled updates are exactly equal in float32.
    slow, fast = tuned.evaluate([lion_with_step(0.0625), lion_with_step(0.25)])
    assert slow.fitness == fast.fitness and slow.losses == fast.losses
    (task,) = slow.multipliers
    assert slow.multipliers[task] == pytest.approx(4 * fast.multipliers[task])
    # The fixed fitness tells them apart: that is the knife-edge the tuning removes.
    fixed = SuiteEvaluator(EvaluatorConfig(suite=(TASK,), seeds=(0, 1), batch_size=3,
                                           max_length=16, step_size="fixed"))
    a, b = fixed.evaluate([lion_with_step(0.0625), lion_with_step(0.25)])
    assert a.fitness != b.fitness


def test_a_child_search_starts_at_its_parents_multiplier(tuned):
    (task,) = tuned.tasks
    far = tuned.evaluate([load_seed("adamw")], [{task: 8.0}])[0]
    # Started 3 half-steps above its best, it still finds the same best point.
    assert far.multipliers == tuned.reference_multipliers and far.fitness == 0.0


def test_fixed_mode_reproduces_the_fitness_from_before_tuning():
    """Pinned: the numbers the evaluator gave before the step size was tuned (commit
    fc2b1b0, this machine's XLA:CPU), on the mlp proxy with seeds 0 and 1, with the
    settings of that time (no sign flips or gradient scales, the schedule read)."""
    evaluator = SuiteEvaluator(EvaluatorConfig(
        suite="mlp", seeds=(0, 1), batch_size=2, step_size="fixed", sign_flips=False,
        schedule_input=True, scale_gradients=False))
    lion, adam = evaluator.evaluate([load_seed("lion"), load_seed("adam")])
    assert lion.fitness == pytest.approx(-0.6101957990721398, rel=1e-9)
    assert adam.fitness == pytest.approx(0.001085848338710854, rel=1e-6)
    assert lion.losses["mlp"] == pytest.approx(2.107834815979004, rel=1e-9)
    assert lion.multipliers == {"mlp": 1.0} and lion.runs == 1.0
    np.testing.assert_array_equal(evaluator.reference_losses()["mlp"],
                                  np.float32([1.1384721, 1.1516674]))


def test_config_refuses_unknown_step_size():
    with pytest.raises(ValueError, match="step_size must be one of tuned, fixed"):
        EvaluatorConfig(step_size="auto")


def test_landscape_bench_answers_in_its_json_keys():
    from evaluators.landscape import PANEL, run_landscape

    entries = [e for e in PANEL if e.name in ("adamw", "path_1_square_m", "path_2_sign_step",
                                              "lion", "signum_0.9")]
    result = run_landscape(suite=(TASK,), seeds=2, entries=entries, batch_size=3)
    assert {"lion_rank", "path_max_drop", "programs"} <= set(result)
    rows = {row["name"]: row for row in result["programs"]}
    assert set(rows) == {e.name for e in entries}
    assert all({"name", "fitness", "se_vs_lion"} <= set(row) for row in rows.values())
    # The reference scores 0; a neutral insertion (dead code) does not move the fitness.
    assert rows["adamw"]["fitness"] == 0.0 and rows["path_1_square_m"]["fitness"] == 0.0
    assert result["path"] == [0.0, 0.0, rows["path_2_sign_step"]["fitness"]]
    assert result["path_max_drop"] == pytest.approx(min(0.0, result["path"][2]), abs=1e-4)
    assert rows["lion"]["diff_vs_lion"] == 0.0 and rows["lion"]["se_vs_lion"] == 0.0
    # Lion's rank counts the programs without the Lion core, and Lion.
    others = sorted([rows[n]["fitness"] for n in ("adamw", "path_1_square_m",
                                                  "path_2_sign_step", "signum_0.9")],
                    reverse=True)
    assert result["lion_rank"] == 1 + sum(f > rows["lion"]["fitness"] for f in others)


def test_multipliers_reach_show_top_and_export(tmp_path, capsys):
    import json

    from programs.printer import to_source
    from search.cli import main
    from search.store import RunStore

    store = RunStore.create(tmp_path / "run", {"seed": 0})
    source = to_source(load_seed("lion"))
    pid = store.add_program(source, None, "seed", 0, "s", "f", 7, 0, epoch_start=True,
                            update_scale=2.0)
    twin = store.add_program(source.replace("0.0001", "0.0004"), pid, "constant", 0, "s2",
                             "f", 7, 0, update_scale=8.0)
    result = {"fitness": 0.2, "losses": {"vit": 0.9}, "task_fitness": {"vit": 0.2},
              "status": "ok", "reason": None, "seconds": 1.0,
              "multipliers": {"vit": 32.0}, "runs": 3.0}
    store.add_evaluation("f", pid, "proxy", result, "w", [pid, twin])
    store.close()
    run = str(tmp_path / "run")

    assert main(["show", run, str(twin), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["evaluations"]["proxy"]["multipliers"] == {"vit": 8.0}   # 32 * 2 / 8
    assert main(["show", run, str(twin)]) == 0
    assert "at step x8" in capsys.readouterr().out
    assert main(["top", run, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["multipliers"] == {"vit": 32.0}

    out = tmp_path / "twin_optax.py"
    assert main(["export", f"{run}:{twin}", "-o", str(out)]) == 0
    assert "step multipliers vit 8" in capsys.readouterr().out
    text = out.read_text()
    assert "STEP_MULTIPLIERS = {'vit': 8.0}" in text and "STEP_MULTIPLIER = 8.0" in text


def test_exported_module_applies_the_recommended_multiplier(tmp_path):
    import importlib.util

    from programs.export import export_module

    lion = load_seed("lion")
    modules = {}
    for name, multipliers in (("plain", None), ("tuned", {"vit": 2.0, "mlp": 8.0})):
        path = tmp_path / f"{name}.py"
        path.write_text(export_module(lion, "python", multipliers=multipliers))
        spec = importlib.util.spec_from_file_location(name, path)
        modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(modules[name])
    assert modules["tuned"].STEP_MULTIPLIER == 4.0 and modules["plain"].STEP_MULTIPLIER == 1.0
    w = np.linspace(-1, 1, 8).astype(np.float32)
    g = np.cos(np.arange(8)).astype(np.float32)
    plain, _ = modules["plain"].step(w, g, modules["plain"].init_state(w))
    tuned, _ = modules["tuned"].step(w, g, modules["tuned"].init_state(w))
    np.testing.assert_allclose(tuned, 4.0 * plain, rtol=1e-6)


def test_a_program_over_its_hurdle_is_scored_as_without_one(tuned):
    (task,) = tuned.tasks
    plain = tuned.evaluate([lion_with_step(0.0625)], [{task: 2.0}])[0]
    hurdled = tuned.evaluate([lion_with_step(0.0625)], [{task: 2.0}],
                             hurdles=[plain.fitness - 1.0])[0]
    # The hurdle's probe is the search's first probe, not a rerun (wall time aside).
    assert hurdled._replace(seconds=0) == plain._replace(seconds=0)


def test_a_program_under_its_hurdle_stops_there_on_the_tuning_seed(tuned):
    (task,) = tuned.tasks
    sgd, lion = load_seed("sgd"), lion_with_step(0.0625)
    plain = tuned.evaluate([sgd, lion], [{task: 1.0}, {task: 2.0}])
    stopped, passed = tuned.evaluate([sgd, lion], [{task: 1.0}, {task: 2.0}],
                                     hurdles=[plain[0].fitness + 5.0, plain[1].fitness - 1.0])
    assert passed._replace(seconds=0) == plain[1]._replace(seconds=0)  # per program
    assert stopped.status == "ok" and stopped.reason.startswith("stopped at the hurdle")
    assert stopped.multipliers == {task: 1.0} and stopped.runs == 0.5  # 1 run of 1 seed of 2
    # Scored on seed 0 at its centre, against the reference on seed 0.
    reference = tuned.reference_losses()[task][0]
    assert stopped.fitness == pytest.approx(math.log(reference / stopped.losses[task]))
    assert stopped.fitness < plain[0].fitness + 5.0


def test_a_hurdle_that_also_probes_4x_lets_a_child_needing_a_bigger_step_pass(tuned):
    # Lion's best step is 16x signum's at the same update size: a child one mutation from
    # its signum parent is hurdled far below its best step. Probing 4x the centre too
    # (a first probe of the search anyway) lets it show what it can do there.
    (task,) = tuned.tasks
    lion = lion_with_step(0.0625)
    best = tuned.evaluate([lion], [{task: 2.0}])[0].multipliers[task]
    low = {task: best / 4}
    wide = SuiteEvaluator(dataclasses.replace(tuned.config, hurdle_probes=(1.0, 4.0)))
    at_centre = tuned.evaluate([lion], [low], hurdles=[100.0])[0]
    at_both = wide.evaluate([lion], [low], hurdles=[100.0])[0]
    assert at_centre.multipliers == low and at_both.multipliers == {task: best}
    assert at_both.fitness > at_centre.fitness  # scored at the better of its two probes
    between = (at_centre.fitness + at_both.fitness) / 2
    assert tuned.evaluate([lion], [low], hurdles=[between])[0].reason.startswith("stopped")
    passed = wide.evaluate([lion], [low], hurdles=[between])[0]
    assert passed._replace(seconds=0) == wide.evaluate([lion], [low])[0]._replace(seconds=0)


def test_hurdle_probes_are_first_probes_of_the_search():
    with pytest.raises(ValueError, match="hurdle_probes must be"):
        EvaluatorConfig(hurdle_probes=(2.0,))
