"""Selection on held-out seeds: an apparent improvement is trained again on the
``confirm_seeds`` at the multipliers it was scored at, and scored over all its seeds."""

import dataclasses

import numpy as np
import pytest

from evaluators.suite import EvaluatorConfig, SuiteEvaluator
from evaluators.tasks import get_task
from programs.seed_programs import load_seed
from search.config import ConfigError, SearchConfig, load_config_text
from search.workers import EvaluatorWorker, evaluator_settings
from tests.test_fitness import scaled

TASK = get_task("mlp", steps=25, hidden=16, train_size=512, val_size=256)
SEEDS, HELD_OUT = (0, 1), (2, 3)  # as many as the seeds: one compiled shape


@pytest.fixture(scope="module")
def plain():
    return SuiteEvaluator(EvaluatorConfig(suite=(TASK,), seeds=SEEDS, batch_size=3,
                                          max_length=16))


@pytest.fixture(scope="module")
def confirming(plain):
    return SuiteEvaluator(dataclasses.replace(plain.config, confirm_seeds=HELD_OUT))


@pytest.mark.slow
def test_the_reference_is_run_on_the_held_out_seeds_and_confirmed_adamw_scores_zero(
        confirming, plain):
    reference = confirming.reference_losses()[TASK.name]
    assert reference.shape == (len(SEEDS) + len(HELD_OUT),)
    np.testing.assert_array_equal(reference[:2], plain.reference_losses()[TASK.name])
    adamw = confirming.evaluate([load_seed("adamw")], bars=[-np.inf])[0]
    assert (adamw.fitness, adamw.seeds) == (0.0, 4)


def test_a_program_below_its_bar_is_scored_as_without_held_out_seeds(confirming, plain):
    lion = load_seed("lion")
    alone = plain.evaluate([lion])[0]
    below = confirming.evaluate([lion], bars=[alone.fitness + 0.01])[0]
    assert below._replace(seconds=0) == alone._replace(seconds=0, seeds=2)
    # No bar, or an evaluator without held-out seeds: the same.
    assert confirming.evaluate([lion])[0]._replace(seconds=0) == below._replace(seconds=0)
    assert plain.evaluate([lion], bars=[-np.inf])[0]._replace(seconds=0) == \
        below._replace(seconds=0)


def test_a_program_at_its_bar_is_scored_over_every_seed_at_its_multiplier(confirming, plain):
    lion = load_seed("lion")
    alone = plain.evaluate([lion])[0]
    confirmed = confirming.evaluate([lion], bars=[alone.fitness])[0]
    assert confirmed.seeds == 4 and confirmed.multipliers == alone.multipliers
    assert confirmed.runs == pytest.approx(alone.runs + len(HELD_OUT) / len(SEEDS))
    # The held-out runs are the program at its multiplier, trained as written.
    multiplier = alone.multipliers[TASK.name]
    held_out = SuiteEvaluator(EvaluatorConfig(suite=(TASK,), seeds=HELD_OUT, batch_size=1,
                                              max_length=16, step_size="fixed"))
    losses, _ = held_out.task_losses([scaled(lion, multiplier)])
    search_mean = alone.losses[TASK.name]
    expected = (2 * search_mean + losses[TASK.name][0].sum()) / 4
    assert confirmed.losses[TASK.name] == pytest.approx(expected, rel=1e-6)
    reference = confirming.reference_losses()[TASK.name]
    assert confirmed.fitness == pytest.approx(np.log(reference.mean() / expected), abs=1e-6)
    assert confirmed.fitness != pytest.approx(alone.fitness, abs=1e-4)


def test_only_the_programs_that_reach_their_bars_are_confirmed(confirming, plain):
    lion, adamw = load_seed("lion"), load_seed("adamw")
    one, two = confirming.evaluate([lion, adamw], bars=[np.inf, -np.inf])
    assert (one.seeds, two.seeds) == (2, 4)
    assert one._replace(seconds=0) == confirming.evaluate([lion])[0]._replace(seconds=0)


def test_a_program_stopped_at_its_hurdle_is_not_confirmed(confirming):
    stopped = confirming.evaluate([load_seed("lion")], [{TASK.name: 1.0}],
                                  hurdles=[100.0], bars=[-np.inf])[0]
    assert stopped.reason.startswith("stopped at the hurdle") and stopped.seeds == 1


def test_held_out_seeds_must_be_fresh():
    with pytest.raises(ValueError, match=r"confirm_seeds must be distinct and not among"):
        EvaluatorConfig(seeds=(0, 1), confirm_seeds=(1, 2))
    with pytest.raises(ConfigError, match=r"^<c>: evaluator.confirm_seeds must be distinct "
                                          r"and not among evaluator.seeds \[0, 1\], not "
                                          r"\[2, 2\]$"):
        load_config_text("evaluator: {seeds: [0, 1], confirm_seeds: [2, 2]}", "<c>")


def test_every_evaluator_setting_reaches_the_actors_evaluator():
    # Each setting at a value other than its default: a setting the actors drop would
    # silently not apply (hurdle_probes once did not).
    config = load_config_text("""evaluator:
  suite: mlp
  seeds: [3, 4]
  batch_size: 3
  max_length: 24
  device: cpu
  program_axis: vmap
  step_size: fixed
  tune_seeds: 2
  sign_flips: false
  schedule_input: true
  scale_gradients: false
  hurdle_probes: [1, 4]
  confirm_seeds: [7, 8]
mutation: {max_length: 20}
""", "<c>")
    defaults = SearchConfig().evaluator
    fields = [f.name for f in dataclasses.fields(defaults)]
    assert all(getattr(config.evaluator, name) != getattr(defaults, name) for name in fields)
    worker = EvaluatorWorker(evaluator_settings(config), "mlp@meta10", "test")
    proxy = worker._evaluator("proxy").config
    for name in fields:
        assert getattr(proxy, name) == getattr(config.evaluator, name), name
    meta = worker._evaluator("meta").config
    assert (meta.suite, meta.confirm_seeds, meta.seeds) == ("mlp@meta10", (), (3, 4))
