'''Export any program as Python source: an optax optimizer, or a plain numpy step.

:func:`export_module` generates the text of a module; nothing is executed here, and the
generated module never imports this project:

* ``format="optax"`` (needs jax and optax only): ``optimizer(schedule=None)`` returns an
  ``optax.GradientTransformation``; ``schedule(count)`` gives the program's ``lr`` input
  at step ``count`` (1.0 when None). Its state is a NamedTuple ``ProgramState(count,
  <one pytree per state slot>)``. The program's update is *subtracted* from the weights
  (``w <- w - update``) while optax *adds* updates, so the transformation returns
  ``-update``.
* ``format="python"`` (needs numpy only): ``init_state(params)`` and
  ``step(params, grads, state, lr=1.0) -> (update, state)``, where params are one array
  or a list of arrays (one per parameter tensor) and the caller does
  ``params - update``.

Both keep the program's semantics: it runs once per parameter tensor, so ``norm``,
``dot`` and ``cosine_sim`` reduce one tensor while ``global_norm`` reduces all of them;
division adds the safe-division epsilon (``EPS``) with the denominator's sign; constants
are float32, as in the search's interpreter. Dead code and dead state slots are left out.

Example:
    >>> from programs.seed_programs import load_seed
    >>> text = export_module(load_seed("lion"), "optax")
    >>> "def optimizer(schedule" in text, "import programs" in text
    (True, False)
    >>> print(program_function(without_dead_slots(load_seed("signsgd")), "jnp"))
    def program(w, g, lr):
        """One step of the program on lists of parameter tensors (scalars are shared)."""
        update = _leafwise(_op_sign, g)
        lr_1 = _op_mul(lr, jnp.float32(0.0001))
        update_1 = _leafwise(_op_mul, update, lr_1)
        return (update_1,)
'''

from __future__ import annotations

import keyword
import textwrap

from .export_ops import GLOBAL_OPS, constants_used, helper_name, helper_source
from .kinds import check
from .ops import CONSTANTS
from .printer import to_source
from .program import Const, Program, Var
from .simplify import without_dead_slots

FORMATS = ("optax", "python")

_RESERVED = frozenset({"jax", "jnp", "np", "optax"})
"""Names the generated ``program`` function reads besides its own (and ``_``-names)."""


def export_module(program: Program, format: str = "optax", title: str | None = None,
                  multipliers: dict | None = None) -> str:
    """The source of a module running ``program`` (see the module docstring).

    Args:
        program: a valid program.
        format: ``"optax"`` or ``"python"``.
        title: the first line of the module's docstring.
        multipliers: the step multipliers a search found per task (the program's update
            times these trained best); the module lists them as ``STEP_MULTIPLIERS`` and
            applies their geometric mean, ``STEP_MULTIPLIER``, by default (1.0 without).
    """
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; formats: {', '.join(FORMATS)}")
    program = without_dead_slots(check(program))
    build = _optax_module if format == "optax" else _python_module
    return build(program, title or "An optimizer exported from a lion-search program.",
                 _multipliers_source(multipliers))


def recommended_multiplier(multipliers: dict | None) -> float:
    """The geometric mean of the known multipliers (1.0 without any).

    >>> recommended_multiplier({"vit": 4.0, "mlp": 1.0, "lm": None}), recommended_multiplier(None)
    (2.0, 1.0)
    """
    known = [float(v) for v in (multipliers or {}).values() if v and v > 0]
    if not known:
        return 1.0
    product = 1.0
    for value in known:
        product *= value
    return float(product ** (1.0 / len(known)))


def _multipliers_source(multipliers: dict | None) -> str:
    found = {task: (None if v is None else float(f"{v:.6g}"))
             for task, v in (multipliers or {}).items()}
    return ("# The step multipliers the search found per task: the program's update times\n"
            "# these trained best there (None: every multiplier tried blew up). The\n"
            "# optimizer applies STEP_MULTIPLIER, their geometric mean, unless told another.\n"
            f"STEP_MULTIPLIERS = {found!r}\n"
            f"STEP_MULTIPLIER = {float(f'{recommended_multiplier(multipliers):.6g}')!r}")


def python_names(program: Program) -> dict[str, str]:
    """A Python-safe, SSA name for every parameter and every assignment of ``program``.

    Keys are parameter names and ``(index, target)`` for statement ``index``.
    """
    taken: set[str] = set()
    result: dict = {}

    def fresh(name: str) -> str:
        base = name if name not in _RESERVED and not name.startswith("_") and \
            not keyword.iskeyword(name) else f"v{name}"
        candidate, n = base, 1
        while candidate in taken:
            candidate = f"{base}_{n}"
            n += 1
        taken.add(candidate)
        return candidate

    for name in program.params:
        result[name] = fresh(name)
    for index, statement in enumerate(program.statements):
        result[(index, statement.target)] = fresh(statement.target)
    return result


def program_function(program: Program, xp: str) -> str:
    """``def program(...)``: the statements over lists of tensors, SSA and renamed."""
    names = python_names(program)
    current = {p: names[p] for p in program.params}
    shared = {names[program.learning_rate]}  # values that are one scalar for all tensors
    lines = []
    for index, statement in enumerate(program.statements):
        args = [_arg_source(a, current, xp) for a in statement.args]
        target = names[(index, statement.target)]
        helper = helper_name(statement.op)
        if statement.op in GLOBAL_OPS:
            lines.append(f"{target} = {helper}({', '.join(args)})")
            shared.add(target)
        elif all(not isinstance(a, Var) or current[a.name] in shared for a in statement.args):
            lines.append(f"{target} = {helper}({', '.join(args)})")
            shared.add(target)
        else:
            lines.append(f"{target} = _leafwise({helper}, {', '.join(args)})")
        current[statement.target] = target
    returns = ", ".join(current[name] for name in program.returns)
    params = ", ".join(names[p] for p in program.params)
    body = "\n".join("    " + line for line in lines)
    doc = '    """One step of the program on lists of parameter tensors (scalars are shared)."""'
    return f"def program({params}):\n{doc}\n{body}\n    return ({returns},)"


def _arg_source(arg, current: dict, xp: str) -> str:
    if isinstance(arg, Var):
        return current[arg.name]
    value = arg.value if isinstance(arg, Const) else CONSTANTS[arg.name][0]
    return f"{xp}.float32({value!r})"


def _slot_fields(program: Program) -> list[str]:
    names = python_names(program)
    return [names[s] if names[s] != "count" else "count_slot" for s in program.state_slots]


def _preamble(program: Program, title: str, usage: str) -> str:
    source = textwrap.indent(to_source(program), "    ")
    return f'"""{title}\n\nExported by ``lion-search export`` from this program::\n\n' \
           f'{source}\n\n{usage.strip()}\n"""\n'


_LEAFWISE = '''def _leafwise(fn, *args):
    """``fn`` per parameter tensor: list arguments hold one value per tensor, the others
    are shared by all tensors."""
    size = max(len(a) for a in args if isinstance(a, list))
    return [fn(*(a[i] if isinstance(a, list) else a for a in args)) for i in range(size)]'''


def _constants_source(program: Program) -> str:
    ops = {s.op for s in program.statements}
    return "\n".join(f"{name} = {value!r}" for name, value in constants_used(ops).items())


def _optax_module(program: Program, title: str, multipliers: str) -> str:
    ops = sorted({s.op for s in program.statements})
    fields = _slot_fields(program)
    reads_w = any(Var(program.weight) in s.args for s in program.statements) or \
        program.weight in program.returns
    usage = '''
Usage::

    import optax
    tx = optimizer()                                 # the program's lr input is 1.0
    tx = optimizer(schedule=optax.cosine_decay_schedule(1.0, 10_000))
    tx = optimizer(step_multiplier=STEP_MULTIPLIERS["vit"])   # a task's tuned step
    state = tx.init(params)
    updates, state = tx.update(grads, state, params)
    params = optax.apply_updates(params, updates)

The program's update is subtracted from the weights (w <- w - update) while optax adds
updates, so the transformation returns -update. The program runs once per parameter
tensor (norm, dot and cosine_sim reduce one tensor, global_norm all of them); division
adds EPS to the denominator with its sign; constants are float32. Needs jax and optax.
'''
    state_fields = "\n".join(f"    {f}: optax.Updates" for f in fields)
    need_params = '''
        if params is None:
            raise ValueError("this optimizer reads the parameters: call "
                             "update(grads, state, params)")
        weights = treedef.flatten_up_to(params)''' if reads_w else '''
        weights = None  # the program does not read the weights'''
    text = f'''{_preamble(program, title, usage)}
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import optax

{_constants_source(program)}
{multipliers}


class ProgramState(NamedTuple):
    """The step count (the schedule's argument) and one pytree per state slot."""

    count: jax.Array
{state_fields}


{_LEAFWISE}


def _like(values, tensors):
    """Each value broadcast to its tensor's shape and cast to its dtype."""
    return [jnp.broadcast_to(v, t.shape).astype(t.dtype) for v, t in zip(values, tensors)]


{helper_source(ops, "jnp")}


{program_function(program, "jnp")}


def optimizer(schedule: Optional[Callable[[jax.Array], Any]] = None,
              step_multiplier: float = STEP_MULTIPLIER) -> optax.GradientTransformation:
    """The program as an optax ``GradientTransformation``.

    Args:
        schedule: ``schedule(count) -> lr``, the program's ``lr`` input at step
            ``count`` (0, 1, ...); None gives 1.0 at every step.
        step_multiplier: multiplies the program's update (its learning rate relative to
            the program's own constants); see ``STEP_MULTIPLIERS``.
    """
    scale = jnp.float32(step_multiplier)

    def init_fn(params):
        slots = [jax.tree.map(jnp.zeros_like, params) for _ in ProgramState._fields[1:]]
        return ProgramState(jnp.zeros([], jnp.int32), *slots)

    def update_fn(updates, state, params=None):
        grads, treedef = jax.tree.flatten(updates){need_params}
        if schedule is None:
            lr = jnp.float32(1.0)
        else:
            lr = jnp.asarray(schedule(state.count), jnp.float32)
        slots = [treedef.flatten_up_to(values) for values in state[1:]]
        outputs = program(weights, grads, *slots, lr)
        new_updates = treedef.unflatten([-(u * scale).astype(u.dtype)
                                         for u in _like(outputs[0], grads)])
        new_slots = [treedef.unflatten(_like(values, grads)) for values in outputs[1:]]
        return new_updates, ProgramState(optax.safe_increment(state.count), *new_slots)

    return optax.GradientTransformation(init_fn, update_fn)
'''
    return _tidy(text)


def _python_module(program: Program, title: str, multipliers: str) -> str:
    ops = sorted({s.op for s in program.statements})
    fields = _slot_fields(program)
    usage = '''
Usage::

    state = init_state(params)
    for lr in schedule_values:
        update, state = step(params, grads(params), state, lr)
        params = params - update            # or per tensor, for a list of tensors

params and grads are one numpy array (one parameter tensor) or a list of arrays (one per
tensor). The program runs once per tensor (norm, dot and cosine_sim reduce one tensor,
global_norm all of them); division adds EPS to the denominator with its sign; constants
are float32. Needs numpy only.
'''
    text = f'''{_preamble(program, title, usage)}
import numpy as np

{_constants_source(program)}
STATE_SLOTS = {tuple(fields)!r}
{multipliers}


{_LEAFWISE}


def _as_list(tensors):
    return [np.asarray(t) for t in tensors] if isinstance(tensors, (list, tuple)) \\
        else [np.asarray(tensors)]


def _like(values, tensors):
    return [np.broadcast_to(v, t.shape).astype(t.dtype) for v, t in zip(values, tensors)]


{helper_source(ops, "np")}


{program_function(program, "np")}


def init_state(params):
    """The zero state: one list of arrays (one per tensor) per state slot."""
    tensors = _as_list(params)
    return tuple([np.zeros_like(t) for t in tensors] for _ in STATE_SLOTS)


def step(params, grads, state, lr=1.0, step_multiplier=STEP_MULTIPLIER):
    """One step: ``(update, new_state)``; the caller subtracts ``update``.

    Args:
        params, grads: one array, or a list of arrays (one per parameter tensor).
        state: from :func:`init_state` or the previous step.
        lr: the program's ``lr`` input (the schedule value).
        step_multiplier: multiplies the update; see ``STEP_MULTIPLIERS``.
    """
    w, g = _as_list(params), _as_list(grads)
    with np.errstate(all="ignore"):
        outputs = program(w, g, *state, np.float32(lr))
    update = [(u * np.float32(step_multiplier)).astype(u.dtype) for u in _like(outputs[0], g)]
    new_state = tuple(_like(values, g) for values in outputs[1:])
    single = not isinstance(params, (list, tuple))
    return (update[0] if single else update), new_state
'''
    return _tidy(text)


def _tidy(text: str) -> str:
    """No runs of more than two blank lines; one trailing newline."""
    while "\n\n\n\n" in text:
        text = text.replace("\n\n\n\n", "\n\n\n")
    return text.rstrip("\n") + "\n"
