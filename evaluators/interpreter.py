"""The program interpreter in JAX: one compiled training loop runs any encoded program.

Inside a jitted training step the parameters are flattened into one vector; a program
runs on that vector with a :class:`FlatContext` telling the reductions where each
parameter tensor ends. The interpreter keeps a register file ``(registers, N)``, loops
over the encoded statements with ``lax.fori_loop`` and picks each op with
``lax.switch`` over the registry's jax meanings (scalars are broadcast to ``N``, which
is what a scalar means element-wise). Program arrays are *data* to the compiled code:
new programs and new constants never recompile.

``lax.switch`` stays a real branch when only seeds are vmapped (the opcode is the same
for every seed); vmapping over *programs* turns it into a select over every op, which
suits accelerators. :func:`program_losses` offers both (``program_axis``).

Example:
    >>> import jax, jax.numpy as jnp
    >>> from programs.seed_programs import load_seed
    >>> from evaluators.encoding import encode_batch
    >>> batch = encode_batch([load_seed("signsgd")], max_length=4)
    >>> one = jax.tree.map(lambda a: a[0], batch)
    >>> w, g = jnp.ones(3), jnp.array([2.0, -1.0, 0.0])
    >>> update, _ = run_program(one, FlatContext([3]), w, g, jnp.zeros((2, 3)), 1.0)
    >>> update.tolist()
    [9.999999747378752e-05, -9.999999747378752e-05, 0.0]
"""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from programs.ops import EPS, OPS

from .encoding import MAX_ARITY, OPCODE_NAMES, EncodedBatch, num_registers


class FlatContext:
    """Execution context for one flat vector of parameters of ``sizes`` concatenated."""

    def __init__(self, sizes: Sequence[int], eps: float = EPS):
        sizes = [int(s) for s in sizes]
        self.size = sum(sizes)
        self.num_segments = len(sizes)
        self.segment_ids = jnp.asarray(np.repeat(np.arange(len(sizes)), sizes), jnp.int32)
        self.eps = eps

    def param_sum(self, x):
        sums = jax.ops.segment_sum(x, self.segment_ids, self.num_segments)
        return sums[self.segment_ids]

    def global_sum(self, x):
        return jnp.sum(x)


def _branches(ctx: FlatContext):
    """One function per opcode: ``(a0, a1, a2) -> (N,) float32``."""
    shape = (ctx.size,)

    def make(name):
        if name == "nop":
            return lambda *args: args[0]
        op = OPS[name]

        def branch(*args):
            value = op.array_fn(jnp, ctx, *args[:op.arity])
            return jnp.broadcast_to(value, shape).astype(jnp.float32)

        return branch

    return [make(name) for name in OPCODE_NAMES]


def _write_inputs(registers, slots: int, w, g, lr, states=None):
    """Rows ``0``, ``1`` and ``slots + 2`` hold ``w``, ``g`` and ``lr``; rows
    ``2 .. slots + 1`` the state slots (written only when ``states`` is given)."""
    registers = registers.at[0].set(w).at[1].set(g)
    registers = registers.at[slots + 2].set(
        jnp.broadcast_to(jnp.asarray(lr, jnp.float32), w.shape))
    if states is not None:
        registers = registers.at[2:slots + 2].set(states)
    return registers


def _execute(program: EncodedBatch, ctx: FlatContext, registers):
    """Run the live statements of ``program`` on the register file ``(registers, N)``."""
    branches = _branches(ctx)

    def statement(i, registers):
        args = [jnp.where(program.arg_is_constant[i, k], program.arg_constants[i, k],
                          registers[program.arg_registers[i, k]])
                for k in range(MAX_ARITY)]
        value = jax.lax.switch(program.opcodes[i], branches, *args)
        return registers.at[program.targets[i]].set(value)

    # A traced trip count: only the live statements run, not the padding.
    return jax.lax.fori_loop(0, program.lengths, statement, registers)


def run_program(program: EncodedBatch, ctx: FlatContext, w, g, states, lr):
    """One step of one encoded program (unbatched arrays) on flat vectors.

    Args:
        program: an :class:`EncodedBatch` whose arrays have no batch axis.
        ctx: where parameters end.
        w, g: ``(N,)`` weight and gradient.
        states: ``(slots, N)``.
        lr: the schedule value (scalar).
    Returns:
        ``(update, new_states)``.
    """
    program = jax.tree.map(jnp.asarray, program)
    slots = states.shape[0]
    registers = jnp.zeros((num_registers(program.opcodes.shape[0], slots), ctx.size),
                          jnp.float32)
    registers = _execute(program, ctx, _write_inputs(registers, slots, w, g, lr, states))
    outputs = registers[program.outputs]
    return outputs[0], outputs[1:]


def program_optimizer(program: EncodedBatch, num_state_slots: int, step_scale=1.0,
                      schedule_input: bool = True):
    """``(update_fn, init_state_fn)`` for :func:`evaluators.training.run_training`.

    ``step_scale`` multiplies the program's update (the step-size search's multiplier;
    1.0 leaves every number as it was). ``schedule_input``: the program reads the
    schedule value as its ``lr``; when False it reads ``lr = 1`` and the schedule
    multiplies its update instead (the same for a program linear in ``lr``, as Lion and
    AdamW are; a program cannot then reshape the task's schedule).

    The optimizer state is the whole register file ``(registers, N)``, whose rows
    ``2 .. slots + 1`` are the program's state slots. Keeping it from step to step spares
    each step allocating and zero-filling it (that cost grows with ``max_length`` and was
    half the interpreter's time); stale rows are never read, as a valid program reads
    only its inputs and names assigned earlier in the same step.
    """
    program = jax.tree.map(jnp.asarray, program)
    slots = num_state_slots

    def flat_step(ctx, w, g, registers, lr):
        read = lr if schedule_input else jnp.ones_like(lr)
        registers = _execute(program, ctx, _write_inputs(registers, slots, w, g, read))
        outputs = registers[program.outputs]
        scale = step_scale if schedule_input else step_scale * lr
        return outputs[0] * scale, registers.at[2:slots + 2].set(outputs[1:])

    return flat_optimizer(num_registers(program.opcodes.shape[-1], slots), flat_step)


def flat_optimizer(state_rows: int, flat_step):
    """``(update_fn, init_state_fn)`` over a parameter pytree, from a step on flat vectors.

    ``flat_step(ctx, w, g, state, lr) -> (update, state)`` sees the parameters and the
    gradients flattened into ``(N,)`` vectors, a :class:`FlatContext` saying where each
    tensor ends, and a ``(state_rows, N)`` state (zeros at the start); its update is
    unflattened back into the pytree.
    """

    def init_state_fn(params):
        flat, _ = ravel_pytree(params)
        return jnp.zeros((state_rows, flat.size), jnp.float32)

    def update_fn(grads, state, params, lr):
        flat_w, unravel = ravel_pytree(params)
        flat_g, _ = ravel_pytree(grads)
        ctx = FlatContext([leaf.size for leaf in jax.tree.leaves(params)])
        update, state = flat_step(ctx, flat_w, flat_g, state, lr)
        return unravel(update), state

    return update_fn, init_state_fn


def program_losses(task, batch: EncodedBatch, seeds, num_state_slots: int,
                   program_axis: str = "map", step_scales=None, flip_signs: bool = False,
                   schedule_input: bool = True, scale_gradients: bool = False):
    """Validation losses ``(programs, seeds)`` of every program in ``batch`` on ``task``.

    Traceable (call it under ``jax.jit``). ``program_axis`` is ``"map"`` (programs one
    after another, each op a real branch: best on CPU) or ``"vmap"`` (all programs at
    once, every op computed and selected: for accelerators). ``step_scales`` (one per
    program, default 1) multiply each program's update. ``flip_signs``: train in
    randomly sign-flipped coordinates (see :func:`evaluators.training.run_training`);
    ``schedule_input``: see :func:`program_optimizer`; ``scale_gradients``: show the
    programs each tensor's gradient at a scale drawn per seed (see ``run_training``).
    """
    from .training import final_val_loss

    if step_scales is None:
        step_scales = jnp.ones(batch.opcodes.shape[0], jnp.float32)

    def one_program(args):
        program, step_scale = args
        update_fn, init_state_fn = program_optimizer(program, num_state_slots, step_scale,
                                                     schedule_input)
        return jax.vmap(lambda seed: final_val_loss(task, update_fn, init_state_fn, seed,
                                                     flip_signs, scale_gradients))(seeds)

    if program_axis == "vmap":
        return jax.vmap(one_program)((batch, step_scales))
    if program_axis == "map":
        return jax.lax.map(one_program, (batch, step_scales))
    raise ValueError(f"program_axis must be 'map' or 'vmap', not {program_axis!r}")
