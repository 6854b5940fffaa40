"""``lion-search report DIR``: a static HTML page about a run, in ``DIR/report/``.

The page (``index.html``) shows the run's counters, three plots (PNG files beside it:
fitness against programs evaluated, cache-hit rate and invalid share over time, program
length over time, with where the first Lion-family program appeared), and the top
programs with their simplified form and lineage. Links are relative, so the folder opens
in a browser from disk, or can be copied anywhere. ``data.json`` holds the numbers
plotted. Every file is written to a temporary name and renamed, so a reader never sees a
half-written file; the run may still be writing (the report is one snapshot of it).

Example:
    $ lion-search report runs/quick
    runs/quick/report/index.html (top 10 programs, 3 plots)
"""

from __future__ import annotations

import argparse
import html
import json
import os
import tempfile
import time
from pathlib import Path

from .inspection import lineage_items, top_items
from .program_marks import ProgramMarks, lion_text
from .run_view import RunView, json_safe, open_run, reads_run

PLOTS = ("fitness.png", "rates.png", "length.png")


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="run directory (made by `lion-search run`)")
    parser.add_argument("-n", type=int, default=10, help="top programs shown (default 10)")
    parser.add_argument("--out", help="folder for the report (default DIR/report)")


@reads_run
def run_report(args) -> int:
    from . import UsageError

    if args.n < 1:
        raise UsageError(f"-n must be at least 1 (got {args.n})")
    view = open_run(args.dir)
    out = Path(args.out) if args.out else Path(args.dir) / "report"
    try:
        written = write_report(view, out, args.n)
    except OSError as err:
        raise UsageError(f"{out}: cannot write the report ({err.strerror or err})") from None
    finally:
        view.close()
    print(f"{out / 'index.html'} ({len(written)} files: {', '.join(written)})")
    return 0


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def collect(view: RunView, count: int) -> dict:
    """Everything the report shows, from one snapshot of the run."""
    from programs.parser import parse
    from programs.printer import to_source

    from .run_series import first_lion, fitness_series, length_series, stats_series

    marks = ProgramMarks()
    top = top_items(view, count, "proxy", marks)
    for item in top:
        record = view.program(item["id"])
        item["source"] = record.source
        item["simplified"] = to_source(marks.simplified(parse(record.source)))
        item["lineage"] = lineage_items(view, item["id"])
    meta = top_items(view, count, "meta", marks)
    return json_safe({
        "directory": str(view.directory), "generated": time.time(),
        "counts": view.counts(), "config": view.config, "meta_suite": view.meta_suite,
        "simplifier": marks.simplifier, "fitness": fitness_series(view),
        "rates": stats_series(view), "length": length_series(view),
        "first_lion": first_lion(view, marks), "top": top, "top_meta": meta})


def write_report(view: RunView, out: Path, count: int) -> list[str]:
    """Write the report into ``out`` (created); returns the file names written."""
    from .report_plots import fitness_png, length_png, rates_png

    data = collect(view, count)
    out.mkdir(parents=True, exist_ok=True)
    lion = data["first_lion"]
    images = {"fitness.png": fitness_png(data["fitness"], lion),
              "rates.png": rates_png(data["rates"]),
              "length.png": length_png(data["length"], lion)}
    for name, png in images.items():
        write_atomic(out / name, png)
    write_atomic(out / "data.json", json.dumps(data, indent=1).encode())
    write_atomic(out / "index.html", render_html(data).encode())  # last: all it links exists
    return [*images, "data.json", "index.html"]


# -- HTML ------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.2em 0.7em; text-align: right; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; }
img { max-width: 100%; } .note { color: #555; } .lion { color: #b00; font-weight: bold; }
section.program { border-top: 2px solid #ccc; margin-top: 1.5em; }
"""


def _e(value) -> str:
    return html.escape(str(value))


def _fit(value) -> str:
    return "-" if value is None else f"{value:+.4f}"


def _table(headers: list[str], rows: list[list[str]], left: tuple[int, ...] = ()) -> str:
    """An HTML table; cells are already escaped HTML."""
    head = "".join(f"<th{' class=l' if i in left else ''}>{_e(h)}</th>"
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td{' class=l' if i in left else ''}>{cell}</td>"
                                    for i, cell in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _lion_note(lion: dict, programs: int) -> str:
    if lion["status"] == "found":
        where = (f"; it is program number {lion['joined_rank']} to get a fitness"
                 if lion.get("joined_rank") else "; it has no fitness yet")
        return (f"<p class=lion>First Lion-family program: "
                f"<a href='#program-{lion['id']}'>program {lion['id']}</a>, born "
                f"{lion['born_s']:.1f} s into the run after {lion['born_evaluations']} "
                f"evaluations{where}, fitness {_fit(lion['fitness'])} (dashed red line in "
                "the plots).</p>")
    if lion["status"] == "none":
        return (f"<p class=note>No Lion-family program appeared among the {programs} "
                f"programs ({lion['checked']} distinct structures checked).</p>")
    return ("<p class=note>Lion-family recognition is not available "
            "(programs.recognize is not installed): where Lion first appeared is "
            "unknown.</p>")


def _top_table(items: list[dict], suite: str, other: str, linked: set[int]) -> str:
    tasks = list(dict.fromkeys(t for item in items for t in item["losses"]))
    rows = []
    for item in items:
        ident = (f"<a href='#program-{item['id']}'>{item['id']}</a>"
                 if item["id"] in linked else str(item["id"]))
        rows.append([str(item["rank"]), ident, _fit(item["fitness"]),
                     _fit(item[f"{other}_fitness"]),
                     *["-" if item["losses"].get(t) is None else f"{item['losses'][t]:.4f}"
                       for t in tasks],
                     f"{item['live_statements']}/{item['statements']}",
                     lion_text(item["is_lion"]), f"{item['born']:.1f}",
                     str(item["born_evaluations"])])
    return _table(["#", "program", f"{suite} fitness", f"{other} fitness",
                   *(f"loss {t}" for t in tasks), "live/total", "Lion", "born (s)",
                   "evaluations at birth"], rows)


def _program_section(item: dict, simplifier: str) -> str:
    steps = [[str(s["step"]), str(s["id"]), _e(s["mutation"]), _fit(s["fitness"]),
              "" if s["change"] is None else f"{s['change']:+.4f}",
              f"{s['live_statements']}/{s['statements']}"] for s in item["lineage"]]
    lineage = _table(["step", "program", "mutation", "fitness", "change", "live/total"],
                     steps, left=(2,))
    losses = ", ".join(f"{_e(t)} {v:.4f}" for t, v in item["losses"].items()
                       if v is not None)
    return (f"<section class=program id='program-{item['id']}'>"
            f"<h3>#{item['rank']}: program {item['id']}, fitness {_fit(item['fitness'])}"
            f"</h3><p>losses: {losses}; Lion family: {lion_text(item['is_lion'])}; "
            f"{item['live_statements']} of {item['statements']} statements live; "
            f"meta fitness {_fit(item['meta_fitness'])}</p>"
            f"<p>simplified ({_e(simplifier)}):</p><pre>{_e(item['simplified'])}</pre>"
            f"<details><summary>source as evolved</summary><pre>{_e(item['source'])}"
            f"</pre></details><details{' open' if item['rank'] == 1 else ''}><summary>"
            f"lineage: {len(item['lineage']) - 1} mutations from the warm start</summary>"
            f"{lineage}</details></section>")


def render_html(data: dict) -> str:
    """The page, from :func:`collect`'s data (relative links only)."""
    counts = data["counts"]
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(data["generated"]))
    summary = _table(["programs", "evaluations", "failed", "meta evaluations",
                      "cache-hit rate", "redundant statements", "best fitness",
                      "best meta fitness", "elapsed (s)"],
                     [[str(counts["programs"]), str(counts["evaluations"]),
                       str(counts["failed_evaluations"]), str(counts["meta_evaluations"]),
                       f"{counts['cache_hit_rate']:.1%}", f"{counts['redundant_share']:.1%}",
                       _fit(counts["best_fitness"]), _fit(counts["best_meta_fitness"]),
                       f"{counts['elapsed']:.0f}"]])
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>lion-search report: {_e(data['directory'])}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>lion-search run <code>{_e(data['directory'])}</code></h1>",
        f"<p class=note>Snapshot of the run store at {stamp} (the run may still be "
        "running; run <code>lion-search report</code> again to refresh).</p>",
        summary,
        f"<details><summary>config</summary><pre>{_e(json.dumps(data['config'], indent=2))}"
        "</pre></details>",
        "<h2>How the run went</h2>", _lion_note(data["first_lion"], counts["programs"]),
        "<img src='fitness.png' alt='best and median fitness against programs evaluated'>",
        "<img src='rates.png' alt='cache-hit rate and invalid share over time'>",
        "<img src='length.png' alt='program length over time'>",
        "<h2>Top programs (proxy fitness)</h2>",
    ]
    linked = {item["id"] for item in data["top"]}
    if data["top"]:
        parts.append(_top_table(data["top"], "proxy", "meta", linked))
    else:
        parts.append("<p class=note>No program has been evaluated yet.</p>")
    if data["top_meta"]:
        parts += [f"<h2>Top programs by meta-validation ({_e(data['meta_suite'])})</h2>",
                  _top_table(data["top_meta"], "meta", "proxy", linked)]
    parts += [_program_section(item, data["simplifier"]) for item in data["top"]]
    parts.append("<p class=note>Numbers plotted: <a href='data.json'>data.json</a>.</p>"
                 "</body></html>")
    return "\n".join(parts)
