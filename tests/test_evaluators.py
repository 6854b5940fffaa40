"""The interpreter against the compiled and numpy reference paths; fitness; compilation."""

import random

import jax.numpy as jnp
import numpy as np
import pytest

from evaluators.encoding import encode_batch
from evaluators.fitness import WORST_FITNESS
from evaluators.interpreter import program_losses
from evaluators.reference import compiled_losses, numpy_losses
from evaluators.suite import EvaluatorConfig, SuiteEvaluator
from evaluators.tasks import get_task
from programs.generate import random_program
from programs.mutation import Mutator
from programs.ops import OPS
from programs.seed_programs import SEED_NAMES, load_seed
from tests.conftest import program

# A small, fast variant of the smoke task: what is checked is agreement, not quality.
TASK = get_task("mlp", steps=25, hidden=16, train_size=512, val_size=256)
SEEDS = (0, 1)
# Ops whose numpy and XLA results are the same correctly rounded float32 numbers.
EXACT_OPS = ["add", "sub", "mul", "div", "sqrt", "square", "sign", "abs", "max", "min",
             "interp", "negative", "reciprocal", "clip", "norm", "dot", "global_norm",
             "cube"]


def random_programs(count, seed, exact_only=False):
    rng, found = random.Random(seed), []
    while len(found) < count:
        candidate = random_program(rng, rng.randint(3, 12))
        if not exact_only or all(s.op in EXACT_OPS for s in candidate.statements):
            found.append(candidate)
    return found


@pytest.fixture(scope="module")
def interpret():
    import jax

    compiled = jax.jit(lambda batch: program_losses(TASK, batch, jnp.asarray(SEEDS), 2))
    return lambda programs: np.asarray(compiled(encode_batch(programs, 16)))


SEEDS_AND_RANDOM = [load_seed(n) for n in SEED_NAMES] + random_programs(5, seed=1)
# Past this loss a run has diverged (chance is ln 10 = 2.3): its fitness is the floor
# whatever the exact number, and float rounding differences grow without bound there.
DIVERGED = 50.0


def assert_losses_agree(got, expected, rtol, what=""):
    got, expected = np.asarray(got), np.asarray(expected)
    diverged = (got > DIVERGED) & (expected > DIVERGED)
    np.testing.assert_allclose(np.where(diverged, DIVERGED, got),
                               np.where(diverged, DIVERGED, expected), rtol=rtol,
                               equal_nan=True, err_msg=what)


@pytest.mark.slow  # compiles a training loop per program (seconds each)
def test_interpreter_equals_compiled_reference(interpret):
    losses = interpret(SEEDS_AND_RANDOM)
    for prog, got in zip(SEEDS_AND_RANDOM, losses):
        assert_losses_agree(got, compiled_losses(TASK, prog, SEEDS), rtol=1e-5)


def test_interpreter_equals_numpy_executor_on_seeds_and_exact_programs(interpret):
    programs = [load_seed(n) for n in SEED_NAMES] + random_programs(6, 2, exact_only=True)
    for prog, got in zip(programs, interpret(programs)):
        assert_losses_agree(got, numpy_losses(TASK, prog, SEEDS), rtol=1e-5)


def test_interpreter_near_numpy_executor_with_transcendental_ops(interpret):
    # numpy and XLA round transcendental functions differently by an ulp or so, and
    # training amplifies that; agreement is checked, at a looser tolerance.
    programs = random_programs(6, seed=3)
    assert any(s.op not in EXACT_OPS for p in programs for s in p.statements)
    for prog, got in zip(programs, interpret(programs)):
        assert_losses_agree(got, numpy_losses(TASK, prog, SEEDS), rtol=1e-3)


def test_every_op_runs_in_the_interpreter(interpret):
    programs = []
    for name, op in sorted(OPS.items()):
        args = ", ".join(["b"] * op.arity)  # b = g + 0.6 keeps clear of singularities
        programs.append(program(f"""
            def train(w, g, m, v, lr):
                b = g + 0.6
                x = {name}({args})
                y = x * 0.0001
                u = g * 0.01
                u = u + y
                return u, m, v
        """))
    losses = interpret(programs)
    for (name, _), prog, got in zip(sorted(OPS.items()), programs, losses):
        rtol = 1e-5 if name in EXACT_OPS else 1e-3  # numpy vs XLA rounding, see above
        assert_losses_agree(got, numpy_losses(TASK, prog, SEEDS), rtol=rtol, what=name)


@pytest.fixture(scope="module")
def evaluator():
    return SuiteEvaluator(EvaluatorConfig(suite=(TASK,), seeds=SEEDS, batch_size=3,
                                          max_length=16))


def test_warm_start_scores_zero_and_is_deterministic(evaluator):
    first = evaluator.evaluate([load_seed("adamw")])[0]
    again = evaluator.evaluate([load_seed("adamw"), load_seed("lion")])
    assert first.fitness == 0.0 and again[0].fitness == 0.0
    assert first.losses == again[0].losses and first.status == "ok"
    assert again[1].fitness != 0.0


def test_blow_up_is_scored_not_raised(evaluator):
    boom = program("""
        def train(w, g, m, v, lr):
            a = g * 1e30
            c = a * 1e30
            return c, m, v
    """)
    result = evaluator.evaluate([boom])[0]  # at every multiplier the tuning tries
    assert result.fitness == WORST_FITNESS and result.status == "failed"
    assert "non-finite" in result.reason and set(result.multipliers.values()) == {None}


def test_one_compile_serves_many_batches(evaluator):
    rng, mutator = random.Random(0), Mutator()
    evaluator.evaluate([mutator(load_seed("adamw"), rng)[0] for _ in range(5)])
    # Two shapes per task: full batches, and single rows for the rest of a round on CPU.
    before = evaluator.compilations
    for _ in range(3):  # new programs and new constants, several batches each
        children = [mutator(load_seed("adamw"), rng)[0] for _ in range(5)]
        results = evaluator.evaluate(children)
        assert len(results) == 5
    assert before == 2 * len(evaluator.tasks) and evaluator.compilations == before


def test_vmap_over_programs_equals_map():
    import jax

    programs = SEEDS_AND_RANDOM[:6]
    batch = encode_batch(programs, 16)
    seeds = jnp.asarray(SEEDS)
    mapped = jax.jit(lambda b: program_losses(TASK, b, seeds, 2, "map"))(batch)
    vmapped = jax.jit(lambda b: program_losses(TASK, b, seeds, 2, "vmap"))(batch)
    assert_losses_agree(vmapped, mapped, rtol=1e-5)


def test_too_long_or_wrong_slot_programs_are_refused(evaluator):
    from programs.errors import ProgramError

    chain = "\n".join(["    u = u * 1.5"] * 5)
    long_program = program(f"def train(w, g, lr):\n    u = g * 0.1\n{chain}\n    return u")
    with pytest.raises(ProgramError, match="6 live statements"):
        encode_batch([long_program], max_length=4)
    one_slot = program("def train(w, g, m, lr):\n    u = g * 0.01\n    return u, m")
    with pytest.raises(ProgramError, match="state slots"):
        evaluator.evaluate([one_slot])


def test_eval_benchmark_times_the_same_training_three_ways():
    from evaluators.benchmark import run_benchmark

    result = run_benchmark(quick=True, suite=(TASK,), seeds=(0,), batch_size=2)
    # The three contenders trained the same thing (else the ratios would mean nothing).
    assert result["agree"] == {"interpreter_vs_compiled": True,
                               "interpreter_adamw_vs_handwritten": True}
    # One compiled shape for the batch, one for single rows (the reference).
    assert list(result["per_task"]) == ["mlp"] and result["compilations"] == 2
    assert result["tuned"]["plain_evaluations_per_program"] >= 2.5
    figures = result["per_task"]["mlp"]["seconds_per_program"]
    assert all(seconds > 0 for seconds in figures.values())
    assert result["batch_size"] == 2 and result["program_axis"] == "map"
