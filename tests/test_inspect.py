"""``top``, ``show``, ``lineage``, ``diff`` and ``DIR:ID`` program references.

Most tests read a hand-made run store (fast, known numbers); the ``slow`` ones read a
real small search and compare what the commands print with SQL on its database.
"""

import doctest
import importlib
import json
import sqlite3

import pytest

from inspect_helpers import cli, make_synthetic_run, shared_real_run, sql, top_by_sql
from programs.printer import to_source
from programs.seed_programs import load_seed
from search.cli.program_ref import load_program_ref
from search.cli.run_view import open_run


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    directory = tmp_path_factory.mktemp("synthetic") / "run"
    return directory, make_synthetic_run(directory)


@pytest.fixture(scope="session")
def real(tmp_path_factory):  # one real search for test_inspect and test_report
    return shared_real_run(tmp_path_factory)


def one_line_error(capsys_or_err: str) -> str:
    lines = capsys_or_err.strip().splitlines()
    assert len(lines) == 1, capsys_or_err
    assert "Traceback" not in capsys_or_err
    return lines[0]


@pytest.mark.parametrize("module", ["search.cli.run_view", "search.cli.program_marks",
                                    "search.cli.program_diff", "search.cli.run_series",
                                    "search.cli.report_plots", "search.cli.program_ref"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


# -- top ---------------------------------------------------------------------------------

def test_top_json_ranks_behaviours_by_fitness(synthetic):
    directory, run = synthetic
    status, out, _ = cli("top", directory, "--json")
    assert status == 0
    items = json.loads(out)
    assert [(i["id"], i["fitness"]) for i in items] == run["top"]  # failed one left out
    best = items[0]
    assert best["losses"] == {"mlp": 0.9375} and best["meta_fitness"] == 0.125
    assert best["is_lion"] is True and items[1]["is_lion"] is False
    assert best["statements"] == len(load_seed("lion"))
    assert best["live_statements"] == best["statements"]
    assert best["parent"] == run["ids"][1] and best["born_evaluations"] == 2
    assert items[1]["meta_fitness"] is None


def test_top_n_and_by_meta(synthetic):
    directory, run = synthetic
    assert [i["id"] for i in json.loads(cli("top", directory, "-n", "1", "--json")[1])] \
        == [run["lion"]]
    meta = json.loads(cli("top", directory, "--by", "meta", "--json")[1])
    assert [(i["id"], i["fitness"], i["proxy_fitness"]) for i in meta] == \
        [(run["lion"], 0.125, 0.25)]
    assert meta[0]["losses"] == {"mlp@meta10": 0.5}


def test_top_table_shows_the_numbers(synthetic):
    directory, run = synthetic
    status, out, _ = cli("top", directory)
    assert status == 0
    row = next(line for line in out.splitlines() if f" {run['lion']} " in line
               and "+0.2500" in line)
    for text in ("+0.1250", "0.9375", "7/7", "yes"):
        assert text in row


def test_top_of_a_run_with_nothing_evaluated(tmp_path):
    from search.store import RunStore

    RunStore.create(tmp_path / "run", {"seed": 0}).close()
    assert json.loads(cli("top", tmp_path / "run", "--json")[1]) == []
    status, out, _ = cli("top", tmp_path / "run")
    assert status == 0 and "no program evaluated" in out


# -- show, lineage, diff -----------------------------------------------------------------

def test_show_marks_redundant_statements_and_gives_fitness(synthetic):
    directory, run = synthetic
    report = json.loads(cli("show", directory, run["cache_hit"], "--json")[1])
    assert report["redundant"] == [3]  # dead = cos(w)
    assert "dead" not in report["simplified"]
    assert report["parent"] == run["ids"][0] and report["mutation"].startswith("insert")
    # a cache hit: its fitness comes from the evaluation of its twin, program 1
    assert report["evaluations"]["proxy"]["program"] == run["ids"][0]
    status, out, _ = cli("show", directory, run["cache_hit"])
    assert status == 0
    assert "dead = cos(w)" in next(l for l in out.splitlines() if "# redundant" in l)
    assert f"same behaviour as program {run['ids'][0]}" in out
    assert f"parent {run['ids'][0]}" in out


def test_birth_is_in_search_seconds_across_a_resume(tmp_path):
    # A run killed 300 s in and resumed a day later: a program born 60 s after the
    # resume was born 360 s into the search, not a day and 360 s.
    from search.store import RunStore

    store = RunStore.create(tmp_path / "run", {"seed": 0})
    source = to_source(load_seed("signum"))
    start, resumed = 1_000_000.0, 1_086_400.0
    first = store.add_program(source, None, "warm start", 0, "s", "f", 3, 0, True)
    later = store.add_program(source, first, "modify", 0, "s", "f", 3, 0)
    for at, elapsed in ([(start + t, t) for t in range(2, 301, 2)]
                        + [(resumed + t, 300 + t) for t in range(2, 121, 2)]):
        store.db.execute("INSERT INTO stats (at, elapsed, data) VALUES (?, ?, '{}')",
                         (at, elapsed))
    store.db.execute("UPDATE programs SET born=? WHERE id=?", (start + 1, first))
    store.db.execute("UPDATE programs SET born=? WHERE id=?", (resumed + 60.5, later))
    store.db.commit()
    store.close()
    born = {pid: json.loads(cli("show", tmp_path / "run", pid, "--json")[1])["born_s"]
            for pid in (first, later)}
    assert born[first] == pytest.approx(1.0) and born[later] == pytest.approx(360.5)


def test_show_lion_meta_failed_and_pending(synthetic):
    directory, run = synthetic
    out = cli("show", directory, run["lion"])[1]
    assert "Lion family: yes (b1 0.9, b2 0.99" in out
    assert "fitness on meta10: +0.1250 (ok)" in out.splitlines() and "mlp@meta10" in out
    assert "fitness on proxy: +0.2500 over 12 seeds (ok)" in out.splitlines()
    failed = cli("show", directory, run["failed"])[1]
    assert "failed: mlp: non-finite" in failed and "non-finite" in failed
    assert "not evaluated yet" in cli("show", directory, run["pending"])[1]


def test_lineage_back_to_the_warm_start(synthetic):
    directory, run = synthetic
    items = json.loads(cli("lineage", directory, run["pending"], "--json")[1])
    p1, p2, p3 = run["ids"][:3]
    assert [i["id"] for i in items] == [p1, p2, p3, run["pending"]]
    assert items[0]["mutation"] == "warm start (adamw)" and items[0]["change"] is None
    assert [i["change"] for i in items[1:3]] == [-0.5, 0.75]
    assert items[3]["fitness"] is None and items[3]["change"] is None
    status, out, _ = cli("lineage", directory, p3)
    assert status == 0 and "+0.7500" in out and "2 mutations" in out


def test_diff_side_by_side_and_behaviour(synthetic):
    directory, run = synthetic
    p1, twin = run["ids"][0], run["cache_hit"]
    report = json.loads(cli("diff", directory, p1, twin, "--json")[1])
    assert report["same_behaviour"] is True and report["similarity"] == 1.0
    assert report["changed_lines"] == 1
    assert {"mark": ">", "left": "", "right": "    dead = cos(w)"} in report["rows"]
    assert "+    dead = cos(w)" in report["unified"]
    simplified = json.loads(cli("diff", directory, p1, twin, "--simplified", "--json")[1])
    assert simplified["changed_lines"] == 0
    status, out, _ = cli("diff", directory, p1, run["lion"])
    assert status == 0 and "different behaviour" in out


# -- bad input: one line, status 2 -------------------------------------------------------

@pytest.mark.parametrize("command", [["top"], ["show", "1"], ["lineage", "1"],
                                     ["diff", "1", "2"], ["report"]])
def test_missing_and_foreign_directories(tmp_path, command):
    (tmp_path / "empty").mkdir()
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "run.sqlite").write_text("not a database")
    other = sqlite3.connect(tmp_path / "other.sqlite")  # a SQLite file of another kind
    other.execute("CREATE TABLE t (x)")
    other.commit()
    other.close()
    (tmp_path / "sqlite").mkdir()
    (tmp_path / "other.sqlite").rename(tmp_path / "sqlite" / "run.sqlite")
    for name, says in [("missing", "no such run directory"),
                       ("empty", "not a lion-search run (no run.sqlite)"),
                       ("foreign", "the run database is damaged or foreign (file is not a "
                                   "database)"),
                       ("sqlite", "the run database is damaged or foreign (no such table: "
                                  "meta)")]:
        status, out, err = cli(command[0], tmp_path / name, *command[1:])
        assert status == 2 and out == ""
        assert one_line_error(err) == f"lion-search {command[0]}: {tmp_path / name}: {says}"


@pytest.mark.parametrize("command", [["top"], ["show", "1"], ["lineage", "1"],
                                     ["diff", "1", "2"], ["report"]])
def test_a_run_database_missing_its_tables(tmp_path, command):
    (tmp_path / "run").mkdir()
    db = sqlite3.connect(tmp_path / "run" / "run.sqlite")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.executemany("INSERT INTO meta VALUES (?, ?)", [("format", "lion-search-run/1"),
                                                       ("config", "{}")])
    db.commit()
    db.close()
    status, out, err = cli(command[0], tmp_path / "run", *command[1:])
    assert status == 2 and out == ""
    assert one_line_error(err).startswith(f"lion-search {command[0]}: {tmp_path / 'run'}: "
                                          "cannot read the run database (no such table: ")


@pytest.mark.parametrize("command", [["show", "99"], ["lineage", "99"], ["diff", "1", "99"],
                                     ["show", "0"]])
def test_unknown_program_id(synthetic, command):
    directory, _ = synthetic
    status, out, err = cli(command[0], directory, *command[1:])
    assert status == 2 and out == ""
    assert one_line_error(err) == (f"lion-search {command[0]}: {directory}: no program "
                                   f"{command[-1]} in this run (6 programs)")


def test_non_numeric_id_and_bad_n_are_usage_errors(synthetic):
    directory, _ = synthetic
    with pytest.raises(SystemExit) as exit_info:
        cli("show", directory, "abc")
    assert exit_info.value.code == 2
    assert cli("top", directory, "-n", "0") == (
        2, "", "lion-search top: -n must be at least 1 (got 0)\n")


# -- while the search writes -------------------------------------------------------------

def test_readers_see_a_snapshot_and_do_not_block_the_writer(synthetic, tmp_path):
    import shutil

    directory = tmp_path / "run"
    shutil.copytree(synthetic[0], directory)
    writer = sqlite3.connect(directory / "run.sqlite", isolation_level=None, timeout=1)
    writer.execute("BEGIN IMMEDIATE")  # the search in the middle of a transaction
    writer.execute("UPDATE evaluations SET fitness = 9.0 WHERE fitness = 0.25")
    writer.execute("INSERT INTO programs (source, parent, mutation, island, born, "
                   "structural_hash, fingerprint, statements, redundant) SELECT source, 1, "
                   "'copy', 0, born, structural_hash, fingerprint, statements, redundant "
                   "FROM programs WHERE id = 1")
    status, out, _ = cli("top", directory, "--json")
    assert status == 0 and json.loads(out)[0]["fitness"] == 0.25  # uncommitted: unseen
    assert cli("show", directory, 1)[0] == 0
    assert cli("show", directory, 7)[0] == 2
    writer.execute("COMMIT")
    view = open_run(directory)  # holds a read snapshot ...
    writer.execute("UPDATE evaluations SET fitness = 10.0 WHERE fitness = 9.0")  # ... no wait
    assert view.top(1)[0]["fitness"] == 9.0 and view.program_count() == 7
    view.close()
    assert json.loads(cli("top", directory, "--json")[1])[0]["fitness"] == 10.0
    writer.close()


# -- DIR:ID references -------------------------------------------------------------------

def test_program_ref_resolves_a_run_program(synthetic, tmp_path):
    directory, run = synthetic
    assert to_source(load_program_ref(f"{directory}:{run['lion']}")) == \
        to_source(load_seed("lion"))
    status, out, _ = cli("funcsim", f"{directory}:{run['ids'][0]}",
                         f"{directory}:{run['cache_hit']}")
    assert status == 0 and "same behaviour" in out
    odd = tmp_path / "odd:1"  # a file wins over DIR:ID
    odd.write_text(to_source(load_seed("sgd")))
    assert to_source(load_program_ref(str(odd))) == to_source(load_seed("sgd"))


@pytest.mark.parametrize("ref, says", [
    ("{dir}:99", "{dir}: no program 99 in this run (6 programs)"),
    ("{dir}:x", "{dir}:x: expected DIR:ID with a numeric program id (or a program file that "
                "exists)"),
    ("{tmp}/nope:1", "{tmp}/nope: no such run directory"),
    ("{tmp}/nope.py", "{tmp}/nope.py: no such file")])
def test_program_ref_errors(synthetic, tmp_path, ref, says):
    names = {"dir": synthetic[0], "tmp": tmp_path}
    status, out, err = cli("funcsim", ref.format(**names), str(tmp_path))
    assert status == 2 and out == ""
    assert one_line_error(err) == "lion-search funcsim: " + says.format(**names)


# -- a real search -----------------------------------------------------------------------

@pytest.mark.slow
def test_top_json_matches_the_store(real):
    run_dir = real["dir"]
    items = json.loads(cli("top", run_dir, "-n", "8", "--json")[1])
    expected = top_by_sql(run_dir, 8)
    assert len(items) == len(expected) > 1
    for item, row in zip(items, expected):
        for key in ("id", "fitness", "losses", "statements", "live_statements"):
            assert item[key] == row[key], key
    meta = json.loads(cli("top", run_dir, "--by", "meta", "--json")[1])
    assert [(i["id"], i["fitness"]) for i in meta] == \
        [(r["id"], r["fitness"]) for r in top_by_sql(run_dir, 10, "mlp@meta10")]


@pytest.mark.slow
def test_show_lineage_and_diff_of_a_real_program(real):
    run_dir = real["dir"]
    best = top_by_sql(run_dir, 1)[0]["id"]
    deepest = sql(run_dir, "SELECT MAX(id) FROM programs WHERE fitness IS NOT NULL")[0][0]
    report = json.loads(cli("show", run_dir, deepest, "--json")[1])
    (source, parent, mutation, fitness), = sql(
        run_dir, "SELECT source, parent, mutation, fitness FROM programs WHERE id=?", deepest)
    assert (report["source"], report["parent"], report["mutation"], report["fitness"]) == \
        (source, parent, mutation, fitness)
    items = json.loads(cli("lineage", run_dir, deepest, "--json")[1])
    assert items[0]["parent"] is None and items[-1]["id"] == deepest
    for child, ancestor in zip(items[1:], items):
        assert child["parent"] == ancestor["id"]
        (row_fitness,), = sql(run_dir, "SELECT fitness FROM programs WHERE id=?", child["id"])
        assert child["fitness"] == row_fitness
        assert child["change"] == pytest.approx(row_fitness - ancestor["fitness"])
    status, out, _ = cli("diff", run_dir, best, deepest)
    assert status == 0 and "behaviour" in out


@pytest.mark.slow
def test_commands_worked_while_the_search_was_writing(real):
    during = real["during"]
    assert {command for command, *_ in during} == {"top", "show", "report"}
    assert all(status == 0 for _, status, _, _ in during), during
    assert len({programs for *_, programs in during}) > 1  # the run did move meanwhile
