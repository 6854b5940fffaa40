"""Random valid programs, for tests, benchmarks and fresh populations.

A random program is grown by insert mutations from the empty body, then returns, as the
update and as each state slot, a tensor variable drawn at random (one it computed or an
input); it is valid by construction.

Example:
    >>> import random
    >>> from programs.kinds import is_valid
    >>> p = random_program(random.Random(3), length=12)
    >>> len(p), is_valid(p)
    (12, True)
"""

from __future__ import annotations

import random

from .kinds import infer_kinds, input_kinds
from .mutation import MutationConfig, Mutator
from .ops import TENSOR
from .program import Program, default_params


def random_program(rng: random.Random, length: int, num_state_slots: int = 2,
                   constant_prob: float = 0.2) -> Program:
    """A valid program of ``length`` statements drawn with ``rng``."""
    params = default_params(num_state_slots)
    program = Program(params, (), (params[1], *params[2:-1]))
    grow = Mutator(MutationConfig(insert=1.0, delete=0.0, modify=0.0,
                                  max_length=max(length, 1), constant_prob=constant_prob,
                                  new_variable_prob=0.7))
    while True:
        grown = program
        while len(grown) < length:
            grown, _ = grow(grown, rng)
        final = input_kinds(grown)
        for statement, kind in zip(grown.statements, infer_kinds(grown)):
            final[statement.target] = kind
        tensors = sorted(name for name, kind in final.items() if kind == TENSOR)
        if tensors:  # else every tensor was overwritten by a scalar: grow another
            returns = [rng.choice(tensors) for _ in range(1 + num_state_slots)]
            return grown.with_statements(grown.statements, returns)
