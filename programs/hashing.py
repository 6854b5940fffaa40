"""Structural hash: the cheap first-level dedup key of a program.

Equal for programs that differ only in variable names, dead code, the order of
independent statements, the argument order of commutative ops, or which slot holds a
state. It hashes the *live* expression DAG: each statement's hash is built from its op
and its arguments' hashes (sorted for commutative ops), inputs hash by role, and state
slots get labels refined from the expressions that update them (Weisfeiler-Lehman
style), so slot order does not matter. Two programs computing the same function by
different expressions (``m / sqrt(m * m)`` and ``sign(m)``) get different structural
hashes; that is :mod:`programs.funcsim`'s job.

Example:
    >>> from programs.parser import parse
    >>> a = parse("def train(w, g, m, lr):\\n    x = g + m\\n    m = x * 0.5\\n    return x, m")
    >>> b = parse("def train(p, d, s, r):\\n    y = s + d\\n    z = r * 2.0\\n"
    ...           "    s = y * 0.5\\n    return y, s")
    >>> structural_hash(a) == structural_hash(b)
    True
"""

from __future__ import annotations

import hashlib

from .dataflow import liveness
from .ops import OPS
from .program import Const, NamedConst, Program, Var


def _digest(*parts: bytes) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(len(part).to_bytes(4, "little"))
        h.update(part)
    return h.digest()


_ROLE = {role: _digest(b"input", role.encode()) for role in ("w", "g", "lr")}
_STATE = _digest(b"state")


def _expression_hashes(program: Program, live: list[int], slot_labels: dict[str, bytes]):
    """Hash of every name after the live statements, inputs labelled by role."""
    env = {program.weight: _ROLE["w"], program.gradient: _ROLE["g"],
           program.learning_rate: _ROLE["lr"], **slot_labels}
    for index in live:
        statement = program.statements[index]
        args = []
        for arg in statement.args:
            if isinstance(arg, Var):
                args.append(env[arg.name])
            elif isinstance(arg, Const):
                args.append(_digest(b"const", repr(arg.value).encode()))
            elif isinstance(arg, NamedConst):
                args.append(_digest(b"named", arg.name.encode()))
        if OPS[statement.op].commutative:
            args.sort()
        env[statement.target] = _digest(b"op", statement.op.encode(), *args)
    return env


def structural_hash(program: Program) -> str:
    """A hex digest invariant to names, dead code, statement order and slot order."""
    info = liveness(program)
    live = sorted(info.live_statements)
    slots = [(program.state_slots[k], program.returns[k + 1]) for k in sorted(info.live_slots)]
    labels = {name: _STATE for name, _ in slots}
    for _ in range(len(slots)):
        env = _expression_hashes(program, live, labels)
        labels = {name: _digest(b"slot", labels[name], env[out]) for name, out in slots}
    env = _expression_hashes(program, live, labels)
    update = env[program.returns[0]]
    return _digest(b"program", update, *sorted(labels.values())).hex()
