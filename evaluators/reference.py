"""The reference path: one program compiled directly with JAX, to check the interpreter.

The program's live statements become straight-line jax code (the registry's jax
meanings, the same :class:`~evaluators.interpreter.FlatContext`), traced into the same
training loop. Each new program compiles anew (about a second or more), which is
exactly why the search uses the interpreter; this path exists to cross-check it and to
measure what the interpreter saves.

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
from programs.kinds import check
from programs.ops import CONSTANTS, OPS
from programs.program import Const, NamedConst, Program, Var

from .interpreter import FlatContext
from .training import final_val_loss


def compiled_optimizer(program: Program):
    """``(update_fn, init_state_fn)`` running ``program`` as straight-line jax code."""
    program = remove_redundancy(check(program))
    slots = program.num_state_slots

    def init_state_fn(params):
        flat, _ = ravel_pytree(params)
        return jnp.zeros((slots, flat.size), jnp.float32)

    def update_fn(grads, states, params, lr):
        flat_w, unravel = ravel_pytree(params)
        flat_g, _ = ravel_pytree(grads)
        ctx = FlatContext([leaf.size for leaf in jax.tree.leaves(params)])
        env = {program.weight: flat_w, program.gradient: flat_g,
               program.learning_rate: jnp.asarray(lr, jnp.float32)}
        env.update({name: states[k] for k, name in enumerate(program.state_slots)})
        for statement in program.statements:
            args = [_value(arg, env) for arg in statement.args]
            env[statement.target] = OPS[statement.op].array_fn(jnp, ctx, *args)
        outputs = [jnp.broadcast_to(env[name], flat_w.shape).astype(jnp.float32)
                   for name in program.returns]
        return unravel(outputs[0]), jnp.stack(outputs[1:]) if slots else states

    return update_fn, init_state_fn


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
