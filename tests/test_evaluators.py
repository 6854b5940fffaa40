"""The interpreter against the compiled and numpy reference paths; fitness; compilation."""

import random
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from evaluators.encoding import encode_batch
from evaluators.fitness import WORST_FITNESS
from evaluators.interpreter import program_losses, program_optimizer
from evaluators.reference import compiled_losses, numpy_losses
from evaluators.suite import EvaluatorConfig, SuiteEvaluator
from evaluators.tasks import get_task
from programs.dataflow import remove_redundancy
from programs.executor import Executor, Segments
from programs.generate import random_program
from programs.kinds import is_valid
from programs.mutation import Mutator
from programs.ops import OPS
from programs.program import Const, Program, Statement, Var
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
    compiled = jax.jit(lambda batch: program_losses(TASK, batch, jnp.asarray(SEEDS), 2))
    return lambda programs: np.asarray(compiled(encode_batch(programs, 16)))


# Each compiled reference costs a compilation of its own (~5-10 s): three seeds and two
# random programs here; every seed is checked against the numpy executor below, and every
# op step by step.
SEEDS_AND_RANDOM = [load_seed(n) for n in ("adamw", "lion", "rmsprop")] + \
    random_programs(2, seed=1)
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


# Every op of the registry, step by step, on distinct arguments: the interpreter's own
# optimizer step against the numpy executor, update and state after each step. (A loss
# after training would hide a wrong op: the training barely moves, and a swapped
# argument or sin for cos changes it by less than any tolerance that rounding allows.)
STEP_SIZES = (5, 3, 8)  # three parameter tensors: the reductions see where each ends
STEPS = 5
# Measured: the largest relative difference is 1.5e-6 (expm1; an ulp or two where numpy
# and XLA round a transcendental function differently); the exact ops agree bit for bit.
RTOL, ATOL = 1e-5, 1e-7
# Per argument position, an affine map ``scale * source + offset`` of a source in [-1, 1]
# (g, w, the carried state m, or lr), so that each position sees its own values.
POSITIONS = ((1.5, 0.0), (2.0, 0.3), (0.8, 0.1))
DOMAINS = {  # ops whose arguments need another range to stay well-conditioned
    "tan": ((1.4, 0.0),),                   # clear of the pole at pi / 2
    "arccosh": ((1.5, 2.0),),               # mostly above 1 (below: the clamp)
    "dot": ((0.5, 1.5), (0.5, 1.0)),        # positive: a sum without cancellation
    "cosine_sim": ((0.5, 1.5), (0.5, 1.0)),
}
# Which source feeds each argument position; "C" is a constant. Every variant reads m
# (so the state slot m is live) and distinct sources sit in distinct positions, so an
# interpreter that swaps arguments computes something else.
VARIANTS = {
    1: (("m",),),
    2: (("g", "m"), ("m", "g"), ("m", "C"), ("C", "m"), ("lr", "m")),
    3: (("g", "m", "w"), ("m", "w", "g"), ("w", "g", "m"), ("C", "m", "g"),
        ("g", "C", "m"), ("m", "g", "C"), ("lr", "m", "w")),
}


def op_program(name: str, sources: tuple[str, ...]) -> Program:
    """``m`` a moving average of g; ``x = name(args)`` on the sources mapped into each
    position's range; ``v`` a moving average of x (the op's output carried as state);
    ``update = v * lr``."""
    domains = DOMAINS.get(name, POSITIONS)
    statements = [Statement("m", "interp", (Var("g"), Var("m"), Const(0.75)))]
    args = []
    for position, source in enumerate(sources):
        scale, offset = domains[position]
        if source == "C":
            args.append(Const(scale * 0.37 + offset))
            continue
        target = f"a{position}"
        statements += [Statement(target, "mul", (Var(source), Const(scale))),
                       Statement(target, "add", (Var(target), Const(offset)))]
        args.append(Var(target))
    statements += [Statement("x", name, tuple(args)),
                   Statement("v", "interp", (Var("x"), Var("v"), Const(0.5))),
                   Statement("u", "mul", (Var("v"), Var("lr")))]
    return Program(params=("w", "g", "m", "v", "lr"), statements=tuple(statements),
                   returns=("u", "m", "v"))


def every_op_programs() -> list[tuple[str, tuple[str, ...], Program]]:
    cases = []
    for name, op in sorted(OPS.items()):
        for sources in VARIANTS[op.arity]:
            candidate = op_program(name, sources)
            if is_valid(candidate):  # the reductions take tensors only
                cases.append((name, sources, candidate))
    return cases


def interpreter_steps(programs, ws, gs, lrs, program_axis):
    """Updates ``(programs, steps, N)`` and state slots ``(programs, steps, 2, N)`` of
    the interpreter's own optimizer step (:func:`program_optimizer`, as training runs
    it), over given streams of flat weights, gradients and schedule values; all the
    programs in one compiled call, mapped or vmapped as ``program_axis`` says."""
    offsets = np.cumsum((0,) + STEP_SIZES)

    def split(flat):
        return [flat[offsets[i]:offsets[i + 1]] for i in range(len(STEP_SIZES))]

    def one(encoded):
        update_fn, init_state_fn = program_optimizer(encoded, num_state_slots=2)

        def step(state, inputs):
            w, g, lr = inputs
            update, state = update_fn(split(g), state, split(w), lr)
            return state, (jnp.concatenate(update), state[2:4])

        return jax.lax.scan(step, init_state_fn(split(ws[0])), (ws, gs, lrs))[1]

    over_programs = jax.vmap(one) if program_axis == "vmap" else partial(jax.lax.map, one)
    updates, states = jax.jit(over_programs)(encode_batch(programs, max_length=12))
    return np.asarray(updates), np.asarray(states)


def executor_steps(prog, ws, gs, lrs):
    executor = Executor(prog, np.float32, Segments(STEP_SIZES))
    state, updates, states = executor.init_state(ws[0]), [], []
    for w, g, lr in zip(ws, gs, lrs):
        update, state = executor.step(w, g, state, np.float32(lr))
        updates.append(update)
        states.append(np.stack(state))
    return np.stack(updates), np.stack(states)


@pytest.mark.parametrize("program_axis", ["map", "vmap"])
def test_every_op_agrees_with_numpy_step_by_step_on_distinct_arguments(program_axis):
    cases = every_op_programs()
    assert {name for name, _, _ in cases} == set(OPS)  # every op of the registry
    for name, sources, prog in cases:  # nothing is dead code the encoding would drop
        assert remove_redundancy(prog) == prog, (name, sources)
    rng = np.random.default_rng(0)
    size = sum(STEP_SIZES)
    ws = rng.uniform(-1, 1, (STEPS, size)).astype(np.float32)
    gs = rng.uniform(-1, 1, (STEPS, size)).astype(np.float32)
    lrs = rng.uniform(0.1, 1.0, STEPS).astype(np.float32)
    updates, states = interpreter_steps([p for _, _, p in cases], ws, gs, lrs,
                                        program_axis)
    for (name, sources, prog), got_updates, got_states in zip(cases, updates, states):
        expected_updates, expected_states = executor_steps(prog, ws, gs, lrs)
        assert np.all(np.isfinite(expected_updates)), (name, sources)
        for step in range(STEPS):
            what = f"{name}{sources} step {step}"
            np.testing.assert_allclose(got_updates[step], expected_updates[step],
                                       rtol=RTOL, atol=ATOL, err_msg=f"{what}: update")
            np.testing.assert_allclose(got_states[step], expected_states[step],
                                       rtol=RTOL, atol=ATOL, err_msg=f"{what}: state")


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
    # Seeds (their ops round alike either way; transcendental ones need not).
    programs = [load_seed(n) for n in SEED_NAMES[:6]]
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
