"""The dataflow graph of a program, and redundancy *across steps*.

Nodes are the parameters (``("in", name)``), the statements (``("stmt", i)``) and the
returned values (``("out", k)``: k = 0 the update, k >= 1 state slot k). Edges go from the
definition a statement reads to the statement (def-use), and from each returned state
value to the same slot's input (the step boundary). A statement is *live* when the
update depends on it, in this step or a later one; the rest is redundant. A state slot
whose incoming value never reaches the update is dead, and so are the statements that
only compute its outgoing value.

Example:
    >>> from programs.parser import parse
    >>> from programs.printer import to_source
    >>> p = parse('''def train(w, g, m, v, lr):
    ...     v = interp(g, v, 0.5)
    ...     m = interp(g, m, 0.9)
    ...     u = sign(m)
    ...     return u, m, v''')
    >>> redundant_statements(p)
    [0]
    >>> print(to_source(remove_redundancy(p)))
    def train(w, g, m, v, lr):
        m = interp(g, m, 0.9)
        u = sign(m)
        return u, m, v
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from .program import Program, Statement, Var

UPDATE = ("out", 0)


def dataflow_graph(program: Program) -> nx.DiGraph:
    """The def-use graph, with the step-boundary edges from state outputs to inputs."""
    graph = nx.DiGraph()
    definition = {name: ("in", name) for name in program.params}
    graph.add_nodes_from(definition.values())
    for index, statement in enumerate(program.statements):
        node = ("stmt", index)
        graph.add_node(node)
        for name in statement.reads():
            graph.add_edge(definition[name], node)
        definition[statement.target] = node
    for position, name in enumerate(program.returns):
        graph.add_edge(definition[name], ("out", position))
    for slot, name in enumerate(program.state_slots, 1):
        graph.add_edge(("out", slot), ("in", name))
    return graph


@dataclass(frozen=True)
class Liveness:
    """Which statements and state slots the update depends on, across steps.

    Attributes:
        live_statements: indices of live statements.
        live_slots: 0-based indices of live state slots.
    """

    live_statements: frozenset[int]
    live_slots: frozenset[int]


def liveness(program: Program) -> Liveness:
    """What the update depends on, in this step and all later ones."""
    graph = dataflow_graph(program)
    needed = nx.ancestors(graph, UPDATE)
    statements = frozenset(i for kind, i in needed if kind == "stmt")
    slots = frozenset(k for k, name in enumerate(program.state_slots)
                      if ("in", name) in needed)
    return Liveness(statements, slots)


def redundant_statements(program: Program) -> list[int]:
    """Indices of the statements that no output depends on, across steps."""
    live = liveness(program).live_statements
    return [i for i in range(len(program.statements)) if i not in live]


def count_redundant(program: Program) -> int:
    """How many statements are redundant."""
    return len(redundant_statements(program))


def remove_redundancy(program: Program) -> Program:
    """The program without its redundant statements; dead state slots keep their input.

    A dead slot's return becomes its own parameter (the slot then stays at zero). When a
    live statement reassigns that parameter's name, it is renamed so the name still
    holds the incoming value at the end.
    """
    info = liveness(program)
    kept = [s for i, s in enumerate(program.statements) if i in info.live_statements]
    dead_names = {name for k, name in enumerate(program.state_slots)
                  if k not in info.live_slots}
    taken = set(program.params) | {s.target for s in program.statements}
    current = {}  # a dead slot's name -> the name its reassigned value now has
    statements = []
    for statement in kept:
        args = tuple(Var(current.get(a.name, a.name)) if isinstance(a, Var) else a
                     for a in statement.args)
        target = statement.target
        if target in dead_names:
            fresh = _fresh_name(target, taken)
            taken.add(fresh)
            current[target] = fresh
            target = fresh
        else:
            current.pop(target, None)
        statements.append(Statement(target, statement.op, args, statement.line,
                                    statement.col))
    returns = [current.get(program.returns[0], program.returns[0])]
    for k, (slot, name) in enumerate(zip(program.state_slots, program.returns[1:])):
        returns.append(slot if k not in info.live_slots else current.get(name, name))
    return program.with_statements(statements, returns)


def _fresh_name(base: str, taken: set[str]) -> str:
    index = 1
    while f"{base}_{index}" in taken:
        index += 1
    return f"{base}_{index}"
