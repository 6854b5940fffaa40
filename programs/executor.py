"""The reference executor: run a program with numpy, one step or many, carrying state.

A program runs on *all parameter tensors at once*; a *context* says where one parameter
ends, which the reductions (``norm``, ``dot``, ``global_norm``, ...) need, and holds the
safe-division epsilon (``eps``, :data:`programs.ops.EPS` unless told otherwise):

* :class:`SingleTensor`: the arrays are one parameter tensor;
* :class:`Stacked`: arrays shaped ``(..., P, N)`` hold P parameters of N elements each
  (leading axes are independent problems; funcsim uses this to run all its streams in
  one pass);
* :class:`Segments`: arrays shaped ``(..., total)`` hold parameters of different sizes
  concatenated, as a flattened model would.

Numbers are float32 by default (``dtype`` selects another); a program may produce
inf/nan, which is returned, never raised.

Example:
    >>> import numpy as np
    >>> from programs.seed_programs import load_seed
    >>> lion = Executor(load_seed("lion"))
    >>> w, g = np.ones(3, np.float32), np.array([1.0, -2.0, 0.0], np.float32)
    >>> update, state = lion.step(w, g, lion.init_state(w), lr=1.0)
    >>> np.round(update / 1e-5, 3)  # lr 1e-4 * (sign(0.1 g) + 0.1 w)
    array([11., -9.,  1.], dtype=float32)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .kinds import check
from .ops import CONSTANTS, EPS, OPS
from .program import Const, NamedConst, Program, Var


class SingleTensor:
    """Context for arrays that are one parameter tensor each."""

    def __init__(self, xp=np, eps: float = EPS):
        self.xp = xp
        self.eps = eps

    def param_sum(self, x):
        return self.xp.sum(x, keepdims=True)

    global_sum = param_sum


class Stacked:
    """Context for arrays ``(..., P, N)``: P parameter tensors of N elements each."""

    def __init__(self, xp=np, eps: float = EPS):
        self.xp = xp
        self.eps = eps

    def param_sum(self, x):
        return self.xp.sum(x, axis=-1, keepdims=True)

    def global_sum(self, x):
        return self.xp.sum(x, axis=(-2, -1), keepdims=True)


class Segments:
    """Context for arrays ``(..., total)``: flattened parameters of ``sizes`` concatenated.

    Example:
        >>> r = Segments([2, 1])
        >>> r.param_sum(np.array([1.0, 2.0, 5.0]))
        array([3., 3., 5.])
    """

    def __init__(self, sizes: Sequence[int], eps: float = EPS):
        self.eps = eps
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]])

    def param_sum(self, x):
        sums = np.add.reduceat(x, self.offsets, axis=-1)
        return np.repeat(sums, self.sizes, axis=-1)

    def global_sum(self, x):
        return np.sum(x, axis=-1, keepdims=True)


class Executor:
    """A program compiled to a list of numpy calls over registers.

    Args:
        program: a valid program (checked here with :func:`programs.kinds.check`).
        dtype: the float type of every value.
        context: where parameter tensors end, and the division epsilon;
            :class:`SingleTensor` by default.
    """

    def __init__(self, program: Program, dtype=np.float32, context=None):
        self.program = check(program)
        self.dtype = np.dtype(dtype)
        self.context = context if context is not None else SingleTensor()
        registers: dict[str, int] = {}
        constants: list = []

        def register(name: str) -> int:
            return registers.setdefault(name, len(registers))

        def argument(arg) -> int:
            if isinstance(arg, Var):
                return registers[arg.name]
            value = arg.value if isinstance(arg, Const) else CONSTANTS[arg.name][0]
            index = register(f"#const{len(constants)}")
            constants.append((index, self.dtype.type(value)))
            return index

        self._inputs = [register(name) for name in program.params]
        code = []
        for statement in program.statements:
            args = tuple(argument(a) for a in statement.args)
            code.append((OPS[statement.op].array_fn, register(statement.target), args))
        self._code = tuple(code)
        self._outputs = [registers[name] for name in program.returns]
        self._constants = constants
        self._size = len(registers)

    def init_state(self, w) -> tuple[np.ndarray, ...]:
        """Zero state slots shaped like ``w``."""
        return tuple(np.zeros(np.shape(w), self.dtype) for _ in self.program.state_slots)

    def step(self, w, g, state, lr):
        """One optimizer step: ``(update, new_state)``; the caller does ``w -= update``."""
        with np.errstate(all="ignore"):
            return self._step(w, g, state, lr)

    def _step(self, w, g, state, lr):
        cast = self.dtype.type
        regs = [None] * self._size
        for index, value in self._constants:
            regs[index] = value
        for index, value in zip(self._inputs, (w, g, *state, lr)):
            regs[index] = np.asarray(value, self.dtype) if np.ndim(value) else cast(value)
        ctx = self.context
        for fn, target, args in self._code:
            regs[target] = fn(np, ctx, *[regs[i] for i in args])
        # Abstract execution guarantees the outputs are tensors: already full-shaped.
        return regs[self._outputs[0]], tuple(regs[i] for i in self._outputs[1:])

    def run(self, weights, grads, lrs, state=None):
        """Steps over given streams: ``(updates, final_state)``.

        The weights are an input stream here (not updated by the program), as funcsim
        needs; use :meth:`train` to apply the updates.
        """
        state = self.init_state(weights[0]) if state is None else state
        updates = []
        with np.errstate(all="ignore"):
            for w, g, lr in zip(weights, grads, lrs):
                update, state = self._step(w, g, state, lr)
                updates.append(update)
        return updates, state

    def train(self, w, grad_fn, lrs, state=None):
        """Apply the program for ``len(lrs)`` steps: ``w <- w - update``.

        Args:
            w: initial weight.
            grad_fn: ``grad_fn(w, step) -> gradient``.
            lrs: the schedule values, one per step.
        Returns:
            ``(w, state)`` after the last step.
        """
        w = np.asarray(w, self.dtype)
        state = self.init_state(w) if state is None else state
        for step, lr in enumerate(lrs):
            update, state = self.step(w, grad_fn(w, step), state, lr)
            w = (w - update).astype(self.dtype)
        return w, state
