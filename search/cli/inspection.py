"""``lion-search top``, ``show``, ``lineage`` and ``diff``: look into a run, also while
it runs (each command reads one snapshot of the run store, read-only).

Example:
    $ lion-search top runs/quick -n 5
    $ lion-search show runs/quick 14
    $ lion-search lineage runs/quick 14 --json
    $ lion-search diff runs/quick 1 14
"""

from __future__ import annotations

import argparse
import json

from .program_marks import ProgramMarks, lion_text
from .run_view import PROXY, ProgramRecord, RunView, json_safe, open_run, reads_run


def _print_titled(heading, table) -> None:
    """The heading on its own line, then the table (a table title would wrap to the
    table's width)."""
    console = _console()
    console.print(heading)
    console.print(table)


def _console():
    """A rich console; wide when not a terminal, so piped tables do not wrap."""
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=max(console.width, 200))
    return console


def _fitness(value: float | None) -> str:
    return "-" if value is None else f"{value:+.4f}"


def multipliers_text(multipliers: dict | None, tasks) -> str:
    """Step multipliers of ``tasks``, ``/``-separated (``-`` where unknown).

    >>> multipliers_text({"vit": 2.0, "mlp": 0.7071}, ["vit", "mlp"]), multipliers_text(None, ["vit"])
    ('2/0.707', '-')
    """
    if not multipliers:
        return "-"
    return "/".join("-" if multipliers.get(t) is None else f"{multipliers[t]:.3g}"
                    for t in tasks)


def _add_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="run directory (made by `lion-search run`)")


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


def _parse(record: ProgramRecord):
    from programs.parser import parse

    return parse(record.source, f"program {record.id}")


# -- top -------------------------------------------------------------------------------

def add_top_arguments(parser: argparse.ArgumentParser) -> None:
    _add_dir(parser)
    parser.add_argument("-n", type=int, default=10, help="how many programs (default 10)")
    parser.add_argument("--by", choices=("proxy", "meta"), default="proxy",
                        help="rank by proxy fitness or by meta-validation fitness")
    _add_json(parser)


def top_items(view: RunView, count: int, by: str, marks: ProgramMarks) -> list[dict]:
    """What ``top --json`` prints: one dict per program, best first."""
    items = []
    for entry in view.top(count, by):
        record = entry["record"]
        meta = entry["other"] if entry["suite"] == PROXY else entry["fitness"]
        proxy = entry["fitness"] if entry["suite"] == PROXY else entry["other"]
        items.append(json_safe({
            "rank": entry["rank"], "id": record.id, "fitness": entry["fitness"],
            "suite": entry["suite"], "losses": entry["losses"],
            "task_fitness": entry["task_fitness"], "proxy_fitness": proxy,
            "meta_fitness": meta, "statements": record.statements,
            "live_statements": record.live_statements,
            "is_lion": marks.lion(_parse(record)), "born": round(record.born_s, 3),
            "born_evaluations": record.born_evaluations, "island": record.island,
            "parent": record.parent, "fingerprint": record.fingerprint,
            "multipliers": view.store.multipliers(record.id, entry["suite"])}))
    return items


@reads_run
def run_top(args) -> int:
    from rich.table import Table
    from rich.text import Text

    from . import UsageError

    if args.n < 1:
        raise UsageError(f"-n must be at least 1 (got {args.n})")
    view = open_run(args.dir)
    items = top_items(view, args.n, args.by, ProgramMarks())
    counts = view.counts()
    view.close()
    if args.json:
        print(json.dumps(items, indent=2))
        return 0
    suite = view.suite_name(args.by)
    if not items:
        print(f"{args.dir}: no program evaluated on {suite} yet "
              f"({counts['programs']} programs generated)")
        return 0
    tasks = list(dict.fromkeys(task for item in items for task in item["losses"]))
    other = "meta" if suite == PROXY else "proxy"
    heading = Text(f"{args.dir}: best {len(items)} by {suite} fitness "
                   f"({counts['programs']} programs, {counts['evaluations']} "
                   f"evaluations, {counts['elapsed']:.0f} s)")
    table = Table()
    others = any(item[f"{other}_fitness"] is not None for item in items)
    for name in ("#", "id", "fitness", *([other] if others else []),
                 *(f"loss {t}" for t in tasks), "step x", "live/total", "Lion", "born s",
                 "evals"):
        table.add_column(name, justify="left" if name == "Lion" else "right")
    for item in items:
        losses = [f"{item['losses'][t]:.4f}" if item["losses"].get(t) is not None else "-"
                  for t in tasks]
        table.add_row(str(item["rank"]), str(item["id"]), _fitness(item["fitness"]),
                      *([_fitness(item[f"{other}_fitness"])] if others else []), *losses,
                      multipliers_text(item["multipliers"], tasks),
                      f"{item['live_statements']}/{item['statements']}",
                      Text(lion_text(item["is_lion"])), f"{item['born']:.1f}",
                      str(item["born_evaluations"]))
    _print_titled(heading, table)
    return 0


# -- show ------------------------------------------------------------------------------

def add_show_arguments(parser: argparse.ArgumentParser) -> None:
    _add_dir(parser)
    parser.add_argument("id", type=int, help="program id")
    _add_json(parser)


def show_report(view: RunView, program_id: int, marks: ProgramMarks) -> dict:
    """What ``show --json`` prints for one program."""
    from programs.dataflow import redundant_statements
    from programs.printer import to_source

    record = view.program(program_id)
    program = _parse(record)
    evaluations = view.evaluations(record.fingerprint)
    parent = view.program(record.parent) if record.parent is not None else None
    return json_safe({
        **record.to_json(),
        "source": to_source(program),
        "redundant": redundant_statements(program),
        "simplified": to_source(marks.simplified(program)),
        "simplifier": marks.simplifier,
        "is_lion": marks.lion(program),
        "lion_constants": marks.lion_constants(program),
        "parent_fitness": parent.fitness if parent else None,
        "evaluations": {suite: {key: record_[key] for key in (
            "program", "fitness", "losses", "task_fitness", "status", "reason", "seconds",
            "worker")} | {"multipliers": view.store.multipliers(program_id, suite),
                          "seeds": record_.get("seeds")}
            for suite, record_ in evaluations.items()}})


@reads_run
def run_show(args) -> int:
    view = open_run(args.dir)
    report = show_report(view, args.id, ProgramMarks())
    view.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print("\n".join(show_lines(report)))
    return 0


def show_lines(report: dict) -> list[str]:
    """``show``'s text: header, fitness per task, marked source, simplified form."""
    lines = [f"program {report['id']} (island {report['island']}), born "
             f"{report['born_s']:.1f} s into the run, after {report['born_evaluations']} "
             "evaluations"]
    if report["parent"] is None:
        lines.append(f"no parent: {report['mutation']}")
    else:
        lines.append(f"parent {report['parent']} (fitness "
                     f"{_fitness(report['parent_fitness'])}), mutation: "
                     f"{report['mutation']}")
    constants = report["lion_constants"]
    lines.append(f"Lion family: {lion_text(report['is_lion'])}" + (
        " (" + ", ".join(f"{k} {v:g}" for k, v in constants.items()) + ")"
        if constants else ""))
    if not report["evaluations"]:
        lines.append("not evaluated yet")
    for suite, evaluation in report["evaluations"].items():
        shared = "" if evaluation["program"] == report["id"] else \
            f"; same behaviour as program {evaluation['program']}, evaluated as that one"
        reason = f": {evaluation['reason']}" if evaluation["reason"] else ""
        seeds = f" over {evaluation['seeds']} seeds" if evaluation.get("seeds") else ""
        lines.append(f"fitness on {suite}: {_fitness(evaluation['fitness'])}{seeds} "
                     f"({evaluation['status']}{reason}{shared})")
        multipliers = evaluation.get("multipliers") or {}
        for task, loss in evaluation["losses"].items():
            loss_text = "non-finite" if loss is None else f"{loss:.4f}"
            step = f"  at step x{multipliers_text(multipliers, [task])}" if multipliers \
                else ""
            lines.append(f"  {task:<20} loss {loss_text:>10}  fitness "
                         f"{_fitness(evaluation['task_fitness'].get(task))}{step}")
    source = report["source"].splitlines()
    lines.append(f"\nsource ({len(report['redundant'])} of {report['statements']} "
                 "statements redundant):")
    width = max(len(line) for line in source)
    for index, line in enumerate(source):
        redundant = 1 <= index <= report["statements"] and index - 1 in report["redundant"]
        lines.append(f"{line:<{width}}  # redundant" if redundant else line)
    lines.append(f"\nsimplified ({report['simplifier']}):")
    lines += report["simplified"].splitlines()
    return lines


# -- lineage ---------------------------------------------------------------------------

def add_lineage_arguments(parser: argparse.ArgumentParser) -> None:
    _add_dir(parser)
    parser.add_argument("id", type=int, help="program id")
    _add_json(parser)


def lineage_items(view: RunView, program_id: int) -> list[dict]:
    """What ``lineage --json`` prints: the warm start first, ``program_id`` last."""
    items, previous = [], None
    for step, record in enumerate(view.lineage(program_id)):
        change = None
        if previous is not None and record.fitness is not None:
            change = record.fitness - previous
        items.append(json_safe({
            "step": step, "id": record.id, "parent": record.parent,
            "mutation": record.mutation, "fitness": record.fitness, "change": change,
            "cache_hit": record.cache_hit, "statements": record.statements,
            "live_statements": record.live_statements, "born": round(record.born_s, 3)}))
        previous = record.fitness
    return items


@reads_run
def run_lineage(args) -> int:
    from rich.table import Table
    from rich.text import Text

    view = open_run(args.dir)
    items = lineage_items(view, args.id)
    view.close()
    if args.json:
        print(json.dumps(items, indent=2))
        return 0
    heading = Text(f"{args.dir}: lineage of program {args.id} ({len(items) - 1} "
                   "mutations from the warm start)")  # above the table: a title would wrap
    table = Table()
    for name in ("step", "id", "mutation", "fitness", "change", "live/total"):
        table.add_column(name, justify="left" if name == "mutation" else "right")
    for item in items:
        change = "" if item["change"] is None else f"{item['change']:+.4f}"
        table.add_row(str(item["step"]), str(item["id"]), Text(item["mutation"]),
                      _fitness(item["fitness"]), change,
                      f"{item['live_statements']}/{item['statements']}")
    _print_titled(heading, table)
    return 0


# -- diff ------------------------------------------------------------------------------

def add_diff_arguments(parser: argparse.ArgumentParser) -> None:
    _add_dir(parser)
    parser.add_argument("a", type=int, help="first program id")
    parser.add_argument("b", type=int, help="second program id")
    parser.add_argument("--simplified", action="store_true",
                        help="compare the simplified forms instead of the sources")
    _add_json(parser)


def diff_report(view: RunView, a: int, b: int, simplified: bool = False) -> dict:
    """What ``diff --json`` prints: both sources, the changed lines, behaviour."""
    from programs.funcsim import similarity
    from programs.printer import to_source

    from .program_diff import side_by_side, unified

    marks = ProgramMarks()
    records = [view.program(a), view.program(b)]
    programs = [_parse(r) for r in records]
    shown = [marks.simplified(p) if simplified else p for p in programs]
    sources = [to_source(p) for p in shown]
    rows = side_by_side(*sources)
    return json_safe({
        "a": a, "b": b, "simplified": simplified, "sources": sources,
        "fitness": [r.fitness for r in records],
        "changed_lines": sum(row.mark != " " for row in rows),
        "rows": [row._asdict() for row in rows],
        "unified": unified(*sources, f"program {a}", f"program {b}"),
        "same_behaviour": records[0].fingerprint == records[1].fingerprint,
        "similarity": similarity(*programs)})


@reads_run
def run_diff(args) -> int:
    from rich.table import Table
    from rich.text import Text

    view = open_run(args.dir)
    report = diff_report(view, args.a, args.b, args.simplified)
    view.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    form = " (simplified)" if args.simplified else ""
    heading = Text(f"{args.dir}: program {args.a} vs program {args.b}{form}")
    table = Table()
    table.add_column(f"program {args.a}  fitness {_fitness(report['fitness'][0])}")
    table.add_column("", justify="center")
    table.add_column(f"program {args.b}  fitness {_fitness(report['fitness'][1])}")
    styles = {" ": "", "|": "yellow", "<": "red", ">": "green"}
    for row in report["rows"]:
        style = styles[row["mark"]]
        table.add_row(Text(row["left"], style=style), row["mark"],
                      Text(row["right"], style=style))
    _print_titled(heading, table)
    verdict = ("same behaviour (funcsim fingerprints match)" if report["same_behaviour"]
               else f"different behaviour (funcsim similarity {report['similarity']:.4f})")
    _console().print(Text(f"{report['changed_lines']} line(s) differ; {verdict}"))
    return 0
