"""Export: generated optax and numpy modules run the program exactly as the search did."""

import importlib.util
import random
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from evaluators.encoding import encode_batch
from evaluators.interpreter import program_optimizer
from evaluators.reference import compiled_optimizer
from evaluators.tasks import get_task
from evaluators.training import final_val_loss, from_optax
from lion import lion
from programs.executor import Executor, Segments, SingleTensor
from programs.export import export_module
from programs.export_ops import GLOBAL_OPS, TEMPLATES, helper_name, helper_source
from programs.generate import random_program
from programs.ops import OPS
from programs.recognize import canonical_lion
from programs.seed_programs import load_seed
from tests.conftest import program as parse_program

TASK = get_task("mlp", steps=30, hidden=16, train_size=512, val_size=256)

# Exercises reductions per tensor and over all tensors, safe division and a schedule
# that is not linear in lr.
REDUCTIONS = parse_program("""
    def train(w, g, m, v, lr):
        n = norm(g)
        gn = global_norm(g)
        c = cosine_sim(g, m)
        d = dot(w, g)
        u = g / n
        s = gn * 0.01
        u = u + s
        k = c * d
        k = k * 0.001
        u = u + k
        lr2 = square(lr)
        lr2 = lr2 * 0.01
        u = u * lr2
        m = interp(g, m, 0.9)
        v = v + n
        return u, m, v
""")


def load_module(text: str, tmp_path, name: str):
    """Import generated source from a file (a new module name per call)."""
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules.pop(name, None)
    return module


def negated(tx):
    """``(update_fn, init_fn)`` for evaluators.training: it subtracts, optax adds."""
    def update_fn(grads, state, params, lr):
        updates, state = tx.update(grads, state, params)
        return jax.tree.map(jnp.negative, updates), state
    return update_fn, tx.init


def val_loss(update_fn, init_fn, seed=0):
    return float(jax.jit(lambda s: final_val_loss(TASK, update_fn, init_fn, s))(seed))


@pytest.mark.parametrize("name", [
    "lion", *(pytest.param(n, marks=pytest.mark.slow) for n in ("adamw", "signum", "rmsprop"))])
def test_exported_seed_trains_like_the_interpreter(name, tmp_path):
    program = load_seed(name)
    module = load_module(export_module(program), tmp_path, f"exported_{name}")
    exported = val_loss(*negated(module.optimizer(schedule=TASK.schedule)))
    batch = jax.tree.map(lambda a: a[0], encode_batch([program], 16))
    interpreted = val_loss(*program_optimizer(batch, program.num_state_slots))
    assert exported == pytest.approx(interpreted, rel=1e-5)
    if name != "lion":  # the compiled path too (slow: one more compilation)
        assert exported == pytest.approx(val_loss(*compiled_optimizer(program)), rel=1e-5)


def test_reductions_and_nonlinear_schedule_match_the_compiled_path(tmp_path):
    module = load_module(export_module(REDUCTIONS), tmp_path, "exported_reductions")
    exported = val_loss(*negated(module.optimizer(schedule=TASK.schedule)))
    assert exported == pytest.approx(val_loss(*compiled_optimizer(REDUCTIONS)), rel=1e-5)


def test_from_optax_with_lr_linear_program(tmp_path):
    """With schedule=None the lr input is 1.0; from_optax scales by the task's schedule."""
    program = load_seed("adamw")
    module = load_module(export_module(program), tmp_path, "exported_adamw_plain")
    exported = val_loss(*from_optax(module.optimizer()))
    assert exported == pytest.approx(val_loss(*compiled_optimizer(program)), rel=1e-5)


def test_exported_lion_equals_lion_lion(tmp_path):
    module = load_module(export_module(canonical_lion(0.9, 0.99, 0.5, 3e-3)), tmp_path,
                         "exported_canonical_lion")
    schedule = optax.cosine_decay_schedule(1.0, 300)
    pairs = [(module.optimizer(), lion(3e-3, b1=0.9, b2=0.99, weight_decay=0.5)),
             (module.optimizer(schedule),
              lion(lambda c: 3e-3 * schedule(c), b1=0.9, b2=0.99, weight_decay=0.5))]
    key = jax.random.PRNGKey(0)
    params = {"a": jax.random.normal(key, (8, 5)), "b": jnp.linspace(-1.0, 1.0, 7)}

    def loss(p):
        return jnp.sum(jnp.sin(p["a"]) ** 2) + jnp.sum((p["b"] - 0.3) ** 2)

    def run(tx):
        def step(carry, _):
            values, state = carry
            updates, state = tx.update(jax.grad(loss)(values), state, values)
            return (optax.apply_updates(values, updates), state), None
        (values, state), _ = jax.lax.scan(step, (params, tx.init(params)), None, length=300)
        return values, state

    for ours, reference in pairs:
        (ours_values, ours_state), (ref_values, ref_state) = run(ours), run(reference)
        values, states = [ours_values, ref_values], [ours_state, ref_state]
        for x, y in zip(jax.tree.leaves(values[0]), jax.tree.leaves(values[1])):
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(states[0].momentum["a"], states[1].mu["a"], rtol=1e-5,
                                   atol=1e-7)


def test_optax_state_is_a_namedtuple_of_count_and_live_slots(tmp_path):
    module = load_module(export_module(load_seed("lion")), tmp_path, "exported_lion_state")
    state = module.optimizer().init({"x": jnp.zeros(3)})
    assert state._fields == ("count", "m")  # the dead slot v is left out
    assert "import programs" not in export_module(load_seed("lion"))


def test_params_are_required_only_when_the_program_reads_w(tmp_path):
    lion_module = load_module(export_module(load_seed("lion")), tmp_path, "exported_needs_w")
    tx = lion_module.optimizer()
    params = {"x": jnp.ones(3)}
    with pytest.raises(ValueError, match="reads the parameters"):
        tx.update(params, tx.init(params))
    signum = load_module(export_module(load_seed("signum")), tmp_path, "exported_no_w")
    tx = signum.optimizer()
    updates, _ = tx.update(params, tx.init(params))
    np.testing.assert_allclose(updates["x"], -1e-4 * np.ones(3), rtol=1e-6)


def test_python_format_matches_the_numpy_executor(tmp_path):
    module = load_module(export_module(REDUCTIONS, "python"), tmp_path, "exported_np")
    rng = np.random.default_rng(0)
    sizes = [6, 4]
    executor = Executor(REDUCTIONS, np.float32, Segments(sizes))
    flat_w = rng.normal(size=sum(sizes)).astype(np.float32)
    state_ref = executor.init_state(flat_w)
    tensors = np.split(flat_w, np.cumsum(sizes)[:-1])
    state = module.init_state(tensors)
    for step in range(5):
        flat_g = rng.normal(size=sum(sizes)).astype(np.float32)
        lr = np.float32(0.5 + 0.1 * step)
        expected, state_ref = executor.step(flat_w, flat_g, state_ref, lr)
        update, state = module.step(tensors, np.split(flat_g, np.cumsum(sizes)[:-1]), state, lr)
        np.testing.assert_allclose(np.concatenate(update), expected, rtol=1e-5, atol=1e-7)


def test_python_format_single_array_and_no_slots(tmp_path):
    module = load_module(export_module(load_seed("signsgd"), "python"), tmp_path, "exp_sgn")
    assert module.STATE_SLOTS == ()
    update, state = module.step(np.ones(3, np.float32), np.array([1.0, -2.0, 0.0],
                                                                 np.float32), (), 2.0)
    np.testing.assert_allclose(update, [2e-4, -2e-4, 0.0], rtol=1e-6)
    assert state == ()


def test_random_programs_export_and_match_the_executor(tmp_path):
    """Any valid program exports; the numpy module agrees with the executor."""
    rng = random.Random(5)
    for index in range(25):
        program = random_program(rng, rng.randint(1, 14), rng.randint(0, 2))
        module = load_module(export_module(program, "python"), tmp_path, f"rand{index}")
        w = np.linspace(-1.0, 1.0, 5).astype(np.float32)
        executor = Executor(program, np.float32, SingleTensor())
        state_ref, state = executor.init_state(w), module.init_state(w)
        for step in range(3):
            g = np.cos(np.arange(5) + step).astype(np.float32)
            expected, state_ref = executor.step(w, g, state_ref, np.float32(0.7))
            update, state = module.step(w, g, state, 0.7)
            np.testing.assert_allclose(update, expected, rtol=1e-5, atol=1e-6, equal_nan=True)
        if index % 5 == 0:  # the optax module too (eager jax: a few programs suffice)
            tx = load_module(export_module(program), tmp_path, f"rand_optax{index}").optimizer()
            params = {"w": jnp.asarray(w)}
            state_tx = tx.init(params)
            executor_state = executor.init_state(w)
            for step in range(2):
                g = np.cos(np.arange(5) + step).astype(np.float32)
                expected, executor_state = executor.step(w, g, executor_state, np.float32(1))
                updates, state_tx = tx.update({"w": jnp.asarray(g)}, state_tx, params)
                np.testing.assert_allclose(-np.asarray(updates["w"]), expected, rtol=1e-5,
                                           atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("op", sorted(OPS))
def test_every_op_template_matches_the_registry(op, tmp_path):
    module = load_module("import numpy as np\nEPS = 1e-08\nLOG_FLOOR = 1e-30\n"
                         "ARCTANH_LIMIT = 1.0 - 1e-6\n\n" + helper_source([op], "np"),
                         tmp_path, f"ops_{op}")
    rng = np.random.default_rng(1)
    args = [rng.normal(size=9).astype(np.float32) * 2 for _ in range(OPS[op].arity)]
    args[0][0] = 0.0
    fn = getattr(module, helper_name(op))
    with np.errstate(all="ignore"):
        expected = OPS[op].numpy(SingleTensor(), *args)
        got = fn([args[0]]) if op in GLOBAL_OPS else fn(*args)
    np.testing.assert_allclose(np.broadcast_to(got, np.shape(expected)), expected,
                               rtol=1e-6, equal_nan=True)
    assert set(TEMPLATES) == set(OPS)


def test_unknown_format_is_an_error():
    with pytest.raises(ValueError, match="unknown export format"):
        export_module(load_seed("sgd"), "torch")


# -- the command line -------------------------------------------------------------------

def test_export_command_writes_an_importable_module(tmp_path, capsys):
    from programs.seed_programs import seed_path
    from search.cli import main

    out = tmp_path / "lion_optax.py"
    assert main(["export", str(seed_path("lion")), "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    module = load_module(out.read_text(), tmp_path, "cli_lion_optax")
    params = {"x": jnp.array([1.0, -2.0])}
    tx = module.optimizer()
    updates, _ = tx.update({"x": jnp.array([0.5, 0.5])}, tx.init(params), params)
    np.testing.assert_allclose(updates["x"], -1e-4 * (1.0 + 0.1 * params["x"]), rtol=1e-6)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []

    simple = tmp_path / "lion_step.py"
    assert main(["export", str(seed_path("lion")), "--format", "python", "--simplify",
                 "-o", str(simple)]) == 0
    assert "def train(w, g, momentum, lr):" in simple.read_text()
    assert load_module(simple.read_text(), tmp_path, "cli_lion_np").STATE_SLOTS == (
        "momentum",)


def test_export_command_bad_input_writes_nothing(tmp_path, capsys):
    from programs.seed_programs import seed_path
    from search.cli import main

    broken = tmp_path / "broken.py"
    broken.write_text("def train(w, g, lr):\n    u = g +\n    return u\n")
    out = tmp_path / "out.py"
    assert main(["export", str(broken), "-o", str(out)]) == 2
    printed, err = capsys.readouterr()
    assert printed == "" and err.count("\n") == 1
    assert err.startswith(f"lion-search export: {broken}:2:") and "syntax error" in err
    assert main(["export", str(tmp_path / "missing.py"), "-o", str(out)]) == 2
    assert capsys.readouterr() == ("", f"lion-search export: {tmp_path / 'missing.py'}: no "
                                       "such file\n")
    assert main(["export", str(seed_path("lion")), "-o",
                 str(tmp_path / "no" / "such" / "dir.py")]) == 2
    assert capsys.readouterr() == ("", f"lion-search export: {tmp_path / 'no' / 'such'} does "
                                       "not exist\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.py"]
