"""The proxy tasks judge the update rule, not a way around the task: random sign flips of
the coordinates (a constant drift cannot pick the sign a task prefers), the schedule
applied outside the program (no program reshapes it) and the gradient seen at a scale
drawn per seed (no mixture of scales is tuned to one). None changes Lion."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from evaluators.encoding import encode_batch
from evaluators.interpreter import program_losses
from evaluators.suite import EvaluatorConfig, SuiteEvaluator
from evaluators.tasks import get_task
from evaluators.training import gradient_scales, sign_flips
from programs.seed_programs import load_seed
from tests.conftest import program

TASK = get_task("mlp", steps=25, hidden=16, train_size=512, val_size=256)
SEEDS = jnp.asarray([0, 1, 2])

DRIFT = program("""
    def train(w, g, m, v, lr):
        m = interp(g, m, 0.9)
        update = sign(m)
        update = update + -0.5
        lr = lr * 0.01
        update = update * lr
        return update, m, v
""")


def signum_scheduled(schedule: str):
    return program(f"""
        def train(w, g, m, v, lr):
            m = interp(g, m, 0.9)
            update = sign(m)
            lr = {schedule}
            update = update * lr
            update = update * 0.01
            return update, m, v
    """)


MIXTURE = program("""
    def train(w, g, m, v, lr):
        m = interp(g, m, 0.9)
        update = sign(m)
        push = g * 2.0
        update = update + push
        lr = lr * 0.01
        update = update * lr
        return update, m, v
""")


def losses(programs, flip_signs, schedule_input=True, scale_gradients=False):
    batch = encode_batch(programs, 16, 2)
    run = jax.jit(lambda b: program_losses(TASK, b, SEEDS, 2, "map", None, flip_signs,
                                           schedule_input, scale_gradients))
    return np.asarray(run(batch))


def test_sign_flips_leave_lion_and_adamw_bit_for_bit_and_change_a_drift():
    programs = [load_seed("lion"), load_seed("adamw"), DRIFT]
    plain, flipped = losses(programs, False), losses(programs, True)
    np.testing.assert_array_equal(plain[:2], flipped[:2])
    assert np.all(np.isfinite(plain)) and np.all(np.abs(plain[2] - flipped[2]) > 1e-4)


def test_sign_flips_are_random_per_seed_and_coordinate():
    params = {"a": jnp.zeros((50, 40)), "b": jnp.zeros(300)}
    first, again, other = sign_flips(params, 0), sign_flips(params, 0), sign_flips(params, 1)
    for name in params:
        assert set(np.unique(first[name])) == {-1.0, 1.0}
        np.testing.assert_array_equal(first[name], again[name])
        assert np.mean(first[name] != other[name]) > 0.3


def test_outside_the_program_the_schedule_cannot_be_reshaped():
    programs = [signum_scheduled("lr * 1.0"), signum_scheduled("sqrt(lr)"),
                load_seed("lion"), load_seed("adamw")]
    inside = losses(programs, False, schedule_input=True)
    outside = losses(programs, False, schedule_input=False)
    assert np.all(np.abs(inside[0] - inside[1]) > 1e-5)  # read, sqrt(lr) is another rule
    np.testing.assert_array_equal(outside[0], outside[1])  # lr reads 1: the same rule
    # Lion and AdamW are linear in lr: the same losses either way (up to rounding).
    np.testing.assert_allclose(inside[2:], outside[2:], rtol=1e-4)


def test_gradient_scales_leave_scale_free_programs_and_change_a_mixture():
    signum = program("""
        def train(w, g, m, v, lr):
            m = interp(g, m, 0.9)
            update = sign(m)
            lr = lr * 0.01
            update = update * lr
            return update, m, v
    """)
    programs = [load_seed("lion"), signum, load_seed("adamw"), MIXTURE]
    plain, scaled = losses(programs, False), losses(programs, False, scale_gradients=True)
    np.testing.assert_array_equal(plain[:2], scaled[:2])  # powers of two scale exactly
    np.testing.assert_allclose(plain[2], scaled[2], rtol=1e-3)  # AdamW: its eps aside
    assert np.all(np.abs(plain[3] - scaled[3]) > 1e-4)
    scales = gradient_scales({f"layer{i}": jnp.zeros(2) for i in range(40)}, 0)
    assert len({float(x) for x in scales.values()}) > 5  # one scale per tensor


@pytest.mark.parametrize("key", ["sign_flips", "schedule_input", "scale_gradients"])
def test_the_evaluator_passes_its_settings_to_training(key):
    on = SuiteEvaluator(EvaluatorConfig(suite=(TASK,), seeds=(0,), batch_size=1,
                                        max_length=16, step_size="fixed", **{key: True}))
    off = SuiteEvaluator(EvaluatorConfig(suite=(TASK,), seeds=(0,), batch_size=1,
                                         max_length=16, step_size="fixed", **{key: False}))
    changed = {"sign_flips": DRIFT, "schedule_input": signum_scheduled("sqrt(lr)"),
               "scale_gradients": MIXTURE}[key]
    assert on.evaluate([changed])[0].losses != off.evaluate([changed])[0].losses
