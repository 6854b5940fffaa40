"""Programs as fixed-size arrays, so one compiled interpreter runs any of them.

A program becomes, per statement: an opcode, a target register, three argument
registers, three constants and three "is a constant" flags. Registers hold the inputs
(``w``, ``g``, the state slots, ``lr``) and then one per variable name; register
``num_registers - 1`` is scratch, where padding statements (opcode ``NOP``) write.
Dead code is removed first (:func:`programs.dataflow.remove_redundancy`; the behaviour is
unchanged), then the body is padded to ``max_length`` statements; ``lengths`` says
where the padding starts. A batch of programs is the same arrays with a leading batch
axis.

Example:
    >>> from programs.seed_programs import load_seed
    >>> batch = encode_batch([load_seed("lion")], max_length=8)
    >>> batch.opcodes.shape, batch.outputs.shape
    ((1, 8), (1, 3))
    >>> [OPCODE_NAMES[int(code)] for code in batch.opcodes[0, :3]]
    ['interp', 'sign', 'mul']
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from programs.dataflow import remove_redundancy
from programs.errors import ProgramError
from programs.kinds import check
from programs.ops import CONSTANTS, OPS
from programs.program import Const, Program, Var

OPCODE_NAMES: tuple[str, ...] = ("nop", *sorted(OPS))
"""Opcode -> op name; opcode 0 is the padding no-op."""
OPCODES = {name: code for code, name in enumerate(OPCODE_NAMES)}
NOP = 0
MAX_ARITY = max(op.arity for op in OPS.values())


class EncodedBatch(NamedTuple):
    """A batch of programs as arrays (leading axis: the program).

    Attributes:
        opcodes: ``(B, L)`` int32.
        targets: ``(B, L)`` int32 register written by each statement.
        arg_registers: ``(B, L, 3)`` int32 register read by each argument.
        arg_constants: ``(B, L, 3)`` float32 value of each constant argument.
        arg_is_constant: ``(B, L, 3)`` bool.
        outputs: ``(B, 1 + slots)`` int32 registers of the update and the new states.
        lengths: ``(B,)`` int32 live statements of each program (the rest is padding,
            which the interpreter skips).
    """

    opcodes: np.ndarray
    targets: np.ndarray
    arg_registers: np.ndarray
    arg_constants: np.ndarray
    arg_is_constant: np.ndarray
    outputs: np.ndarray
    lengths: np.ndarray

    @property
    def size(self) -> int:
        return self.opcodes.shape[0]

    @property
    def max_length(self) -> int:
        return self.opcodes.shape[1]


def num_registers(max_length: int, num_state_slots: int) -> int:
    """Registers needed: inputs, one per statement at most, and the scratch register."""
    return num_state_slots + 3 + max_length + 1


def encode_batch(programs: Sequence[Program], max_length: int,
                 num_state_slots: int | None = None, pad_to: int | None = None) -> EncodedBatch:
    """Encode ``programs`` (their live statements) padded to ``max_length`` statements.

    Args:
        programs: valid programs with the same number of state slots.
        max_length: statements per encoded program; a program whose live part is longer
            is a :class:`ProgramError`.
        num_state_slots: expected slot count (default: the first program's).
        pad_to: grow the batch to this many programs by repeating the last one, so a
            compiled interpreter of a fixed batch size can take a smaller batch.
    """
    if not programs:
        raise ValueError("encode_batch needs at least one program")
    slots = programs[0].num_state_slots if num_state_slots is None else num_state_slots
    count = max(len(programs), pad_to or 0)
    registers = num_registers(max_length, slots)
    batch = EncodedBatch(
        opcodes=np.zeros((count, max_length), np.int32),
        targets=np.full((count, max_length), registers - 1, np.int32),
        arg_registers=np.zeros((count, max_length, MAX_ARITY), np.int32),
        arg_constants=np.zeros((count, max_length, MAX_ARITY), np.float32),
        arg_is_constant=np.zeros((count, max_length, MAX_ARITY), bool),
        outputs=np.zeros((count, 1 + slots), np.int32),
        lengths=np.zeros((count,), np.int32),
    )
    for row in range(count):
        _encode_into(batch, row, programs[min(row, len(programs) - 1)], max_length, slots)
    return batch


def _encode_into(batch: EncodedBatch, row: int, program: Program, max_length: int,
                 slots: int) -> None:
    if program.num_state_slots != slots:
        raise ProgramError(f"program has {program.num_state_slots} state slots; "
                           f"this evaluator runs programs with {slots}")
    program = remove_redundancy(check(program))
    if len(program) > max_length:
        raise ProgramError(f"program has {len(program)} live statements; the evaluator's "
                           f"maximum length is {max_length}")
    register = {name: index for index, name in enumerate(program.params)}
    for i, statement in enumerate(program.statements):
        batch.opcodes[row, i] = OPCODES[statement.op]
        for k, arg in enumerate(statement.args):
            if isinstance(arg, Var):
                batch.arg_registers[row, i, k] = register[arg.name]
            else:
                value = arg.value if isinstance(arg, Const) else CONSTANTS[arg.name][0]
                batch.arg_constants[row, i, k] = value
                batch.arg_is_constant[row, i, k] = True
        if statement.target not in register:
            register[statement.target] = len(register)
        batch.targets[row, i] = register[statement.target]
    batch.outputs[row] = [register[name] for name in program.returns]
    batch.lengths[row] = len(program)

