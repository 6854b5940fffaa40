"""Reference paths that check the interpreter: compiled per program, and numpy.

* :func:`compiled_losses`: the program's live statements become straight-line jax code
  (the registry's jax meanings, the same :class:`~evaluators.interpreter.FlatContext`),
  traced into the same training loop. Each new program compiles anew (seconds), which is
  exactly why the search uses the interpreter; this path cross-checks it and measures
  what the interpreter saves.
* :func:`numpy_losses`: the same training run with the optimizer step done by the numpy
  executor of :mod:`programs.executor` (gradients still from jax), step by step.

Example:
    >>> from programs.seed_programs import load_seed
    >>> from evaluators.tasks import get_task
    >>> losses = compiled_losses(get_task("mlp"), load_seed("adamw"), [0])
    >>> losses.shape
    (1,)
"""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from programs.dataflow import remove_redundancy
from programs.executor import Executor, Segments
from programs.kinds import check
from programs.ops import CONSTANTS, OPS
from programs.program import Const, NamedConst, Program, Var

from .interpreter import flat_optimizer
from .training import final_val_loss


def compiled_optimizer(program: Program):
    """``(update_fn, init_state_fn)`` running ``program`` as straight-line jax code."""
    program = remove_redundancy(check(program))
    slots = program.num_state_slots

    def flat_step(ctx, w, g, states, lr):
        env = {program.weight: w, program.gradient: g,
               program.learning_rate: jnp.asarray(lr, jnp.float32)}
        env.update({name: states[k] for k, name in enumerate(program.state_slots)})
        for statement in program.statements:
            args = [_value(arg, env) for arg in statement.args]
            env[statement.target] = OPS[statement.op].array_fn(jnp, ctx, *args)
        outputs = [jnp.broadcast_to(env[name], w.shape).astype(jnp.float32)
                   for name in program.returns]
        return outputs[0], jnp.stack(outputs[1:]) if slots else states

    return flat_optimizer(slots, flat_step)


def _value(arg, env):
    if isinstance(arg, Var):
        return env[arg.name]
    if isinstance(arg, NamedConst):
        return jnp.float32(CONSTANTS[arg.name][0])
    if isinstance(arg, Const):
        return jnp.float32(arg.value)
    raise TypeError(arg)


def compiled_losses(task, program: Program, seeds: Sequence[int]) -> np.ndarray:
    """Validation loss per seed, compiling a training loop for this one program."""
    update_fn, init_state_fn = compiled_optimizer(program)
    run = jax.jit(jax.vmap(lambda seed: final_val_loss(task, update_fn, init_state_fn, seed)))
    return np.asarray(run(jnp.asarray(seeds, jnp.int32)))


def numpy_losses(task, program: Program, seeds: Sequence[int]) -> np.ndarray:
    """Validation loss per seed with the numpy executor doing every optimizer step.

    Mirrors :func:`evaluators.training.run_training`: same initial weights, batches and
    schedule; NaN when a training loss is non-finite.
    """
    grad_fn = jax.jit(jax.value_and_grad(task.loss))
    batch_fn = jax.jit(task.batch)
    schedule = jax.jit(task.schedule)
    results = []
    for seed in seeds:
        k_init, k_data = jax.random.split(jax.random.PRNGKey(seed))
        params = task.init(k_init)
        flat, unravel = ravel_pytree(params)
        flat = np.asarray(flat, np.float32)
        sizes = [leaf.size for leaf in jax.tree.leaves(params)]
        executor = Executor(program, np.float32, Segments(sizes))
        state, finite = executor.init_state(flat), True
        for step in range(task.steps):
            loss, grads = grad_fn(unravel(jnp.asarray(flat)), batch_fn(k_data, step))
            finite &= bool(np.isfinite(loss))
            update, state = executor.step(flat, np.asarray(ravel_pytree(grads)[0]), state,
                                          np.float32(schedule(step)))
            flat = (flat - update).astype(np.float32)
        val = float(task.val_loss(unravel(jnp.asarray(flat))))
        results.append(val if finite else float("nan"))
    return np.asarray(results, np.float32)
