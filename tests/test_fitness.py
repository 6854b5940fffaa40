"""The fitness: ln(reference loss / program loss), by hand, and through the evaluator."""

import math

import pytest

from evaluators.fitness import BEST_FITNESS, WORST_FITNESS, suite_fitness, task_fitness
from evaluators.suite import EvaluatorConfig, SuiteEvaluator
from programs.program import Const, Statement, Var
from programs.seed_programs import load_seed
from tests.conftest import program

# --- the formula ------------------------------------------------------------------


def test_a_lower_loss_than_the_reference_is_positive():
    fitness, reason = task_fitness([1.0], [2.0])  # half AdamW's loss
    assert fitness == pytest.approx(math.log(2.0), rel=1e-12) and fitness > 0
    assert reason is None


def test_a_higher_loss_than_the_reference_is_negative():
    fitness, reason = task_fitness([2.0], [1.0])
    assert fitness == pytest.approx(-math.log(2.0), rel=1e-12) and fitness < 0
    assert reason is None
    assert task_fitness([1.5], [1.0])[0] == pytest.approx(-task_fitness([1.0], [1.5])[0])


def test_the_reference_loss_itself_scores_exactly_zero():
    assert task_fitness([1.3], [1.3]) == (0.0, None)
    assert task_fitness([1.0, 1.2], [1.1, 1.1]) == (0.0, None)  # equal means over seeds


def test_losses_are_averaged_over_seeds_before_the_ratio():
    # Mean 2.0 against mean 1.0 (not the mean of the per-seed log ratios).
    assert task_fitness([1.0, 3.0], [0.5, 1.5])[0] == pytest.approx(-math.log(2.0))
    assert task_fitness([1.0, 3.0], [1.0, 1.0])[0] == pytest.approx(math.log(1.0 / 2.0))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_loss_on_any_seed_is_the_worst_fitness_with_a_reason(bad):
    assert task_fitness([bad], [1.0]) == (WORST_FITNESS, "non-finite validation loss on 1 "
                                                         "of 1 seeds")
    # One bad seed spoils a good mean: the blow-up is what counts.
    fitness, reason = task_fitness([0.001, bad], [1.0, 1.0])
    assert fitness == WORST_FITNESS == -10.0
    assert reason == "non-finite validation loss on 1 of 2 seeds"


def test_a_program_far_worse_than_the_reference_is_floored_at_the_worst():
    assert task_fitness([math.exp(9.5)], [1.0])[0] == pytest.approx(-9.5)  # not floored
    assert task_fitness([math.exp(11.0)], [1.0]) == (WORST_FITNESS, None)
    assert task_fitness([1e30], [1.0]) == (WORST_FITNESS, None)  # finite, but hopeless


def test_a_perfect_loss_is_the_best_fitness_and_nothing_scores_above_it():
    assert task_fitness([0.0], [1.0]) == (BEST_FITNESS, None) and BEST_FITNESS == 10.0
    assert task_fitness([0.0, 0.0], [2.0, 3.0]) == (BEST_FITNESS, None)
    # A tiny positive loss would be ln(1e6) = 13.8: capped, never above a perfect loss.
    assert task_fitness([1e-6], [1.0]) == (BEST_FITNESS, None)
    assert task_fitness([math.exp(-9.5)], [1.0])[0] == pytest.approx(9.5)


def test_fitness_decreases_with_the_loss():
    losses = [0.0, 1e-9, 1e-3, 0.5, 1.0, 2.0, 1e3, 1e9, float("nan")]
    scores = [task_fitness([loss], [1.0])[0] for loss in losses]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == BEST_FITNESS and scores[-1] == WORST_FITNESS


@pytest.mark.parametrize("reference", [[0.0], [-1.0], [float("nan")], [float("inf")]])
def test_a_reference_without_a_finite_positive_loss_is_an_error(reference):
    with pytest.raises(ValueError, match="reference loss"):
        task_fitness([1.0], reference)


def test_the_suite_fitness_is_the_mean_over_tasks():
    assert suite_fitness([0.1, -0.02]) == pytest.approx(0.04)
    assert suite_fitness([math.log(2.0), -math.log(2.0)]) == pytest.approx(0.0, abs=1e-15)
    assert suite_fitness([0.3]) == pytest.approx(0.3)
    assert suite_fitness([WORST_FITNESS, 0.0]) == -5.0


def test_the_evaluator_scores_each_task_and_a_failed_task_fails_the_program():
    # Two tasks, the reference's losses given (nothing trains): the evaluator's own
    # bookkeeping of task_fitness and suite_fitness.
    evaluator = SuiteEvaluator(EvaluatorConfig(suite="mlp,charlm", seeds=(0, 1),
                                               step_size="fixed"))
    evaluator.reference_losses = lambda: {"mlp": [2.0, 2.0], "charlm": [1.0, 3.0]}
    result = evaluator.evaluate_losses({"mlp": [1.0, 1.0], "charlm": [4.0, 4.0]})
    assert result.task_fitness == pytest.approx({"mlp": math.log(2.0),
                                                 "charlm": math.log(0.5)})
    assert result.fitness == pytest.approx(0.0, abs=1e-12) and result.status == "ok"
    assert result.losses == {"mlp": 1.0, "charlm": 4.0}
    better = evaluator.evaluate_losses({"mlp": [1.0, 1.0], "charlm": [2.0, 2.0]})
    assert better.fitness == pytest.approx(math.log(2.0) / 2)
    failed = evaluator.evaluate_losses({"mlp": [1.0, 1.0], "charlm": [float("nan"), 2.0]})
    assert failed.fitness == WORST_FITNESS and failed.status == "failed"
    assert failed.reason == "charlm: non-finite validation loss on 1 of 2 seeds"


# --- the tuned fitness, on the real (tiny) suite -----------------------------------


def scaled(prog, factor):
    """``prog`` with its update multiplied by ``factor`` (a last statement)."""
    update = prog.returns[0]
    return prog.with_statements(
        list(prog.statements) + [Statement(update, "mul", (Var(update), Const(factor)))],
        prog.returns)


STILL = program("""
    def train(w, g, m, v, lr):
        u = g * 0.0
        return u, m, v
""")  # never moves the weights: its loss is the initial loss, at any step size


def config(step_size):
    return EvaluatorConfig(suite="mlp", seeds=(0,), batch_size=1, step_size=step_size)


@pytest.fixture(scope="module")
def tuned():
    evaluator = SuiteEvaluator(config("tuned"))
    adamw = load_seed("adamw")
    return evaluator, evaluator.evaluate([adamw, scaled(adamw, 4.0), STILL])


def test_tuned_adamw_the_reference_scores_exactly_zero(tuned):
    evaluator, (adamw, _, _) = tuned
    assert adamw.fitness == 0.0 and adamw.status == "ok"
    assert adamw.task_fitness == {"mlp": 0.0}
    assert adamw.multipliers == evaluator.reference_multipliers


def test_tuning_absorbs_a_power_of_two_in_the_step_size(tuned):
    # The multiplier grid is 2 ** (k / 2): AdamW times 4 is tuned to a multiplier 4 times
    # smaller, where it trains exactly as AdamW at its own (x4 is exact in floats).
    evaluator, (adamw, four, _) = tuned
    assert four.fitness == 0.0 and four.status == "ok"
    assert four.multipliers["mlp"] == adamw.multipliers["mlp"] / 4
    assert four.losses == adamw.losses


def test_tuned_fitness_of_a_program_that_does_not_train_is_negative(tuned):
    evaluator, (adamw, _, still) = tuned
    assert still.status == "ok" and still.losses["mlp"] > adamw.losses["mlp"]
    assert still.fitness == pytest.approx(
        math.log(adamw.losses["mlp"] / still.losses["mlp"]), rel=1e-6)
    assert WORST_FITNESS < still.fitness < -0.1


def test_with_a_fixed_step_size_the_scale_is_judged():
    evaluator = SuiteEvaluator(config("fixed"))
    adamw, four = evaluator.evaluate([load_seed("adamw"), scaled(load_seed("adamw"), 4.0)])
    assert adamw.fitness == 0.0 and adamw.multipliers == {"mlp": 1.0}
    assert four.multipliers == {"mlp": 1.0} and four.losses != adamw.losses
    # Four times AdamW's step on this task: a clearly worse loss (measured -0.13).
    assert four.fitness < -0.05
    assert four.fitness == pytest.approx(
        math.log(adamw.losses["mlp"] / four.losses["mlp"]), rel=1e-6)
