"""Every ``lion-search`` command through the installed console script.

* bad input (a missing file, a malformed program, an unknown op, a wrong config key, a
  missing run directory, a bad option value): exactly one line on stderr naming the
  command and the problem, nothing on stdout, no traceback, exit status 2, and no file
  written anywhere (checked on the test's whole workspace);
* success: exit status 0, nothing on stderr, and the line that matters (``evaluate``'s
  fitness, ``status``'s counters compared with the store, ...).

What a command prints in detail is pinned beside its behaviour (test_cli_programs,
test_inspect, test_report, test_simplify, test_export, test_search_e2e, test_rediscover);
this file is the contract of the command line as a user meets it.
"""

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from inspect_helpers import make_synthetic_run, sql
from programs.seed_programs import seed_path
from search.store import RunStore

SCRIPT = Path(sys.executable).parent / "lion-search"  # [project.scripts] in pyproject
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "search.cli"]
MALFORMED = Path(__file__).parent / "data" / "malformed"
LION = seed_path("lion")


def lion_search(*args, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def pattern(expected: str) -> re.Pattern:
    """``expected`` as a whole-line pattern; ``...`` stands for any text."""
    return re.compile(".*".join(re.escape(part) for part in expected.split("...")))


def files(*roots: Path) -> dict:
    """Every folder and file under ``roots``, a file with its size and modification time
    (but for the ``-wal`` and ``-shm`` files SQLite keeps beside a database it reads)."""
    return {path: None if path.is_dir() else (path.stat().st_size, path.stat().st_mtime_ns)
            for root in roots for path in sorted(root.rglob("*"))
            if not path.name.endswith(("-wal", "-shm"))}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Inputs the commands read: a synthetic run, configs, odd files and folders."""
    base = tmp_path_factory.mktemp("commands")
    make_synthetic_run(base / "run")
    (base / "good.yaml").write_text("population_size: 4\nstop: {time_limit_s: 10}\n")
    (base / "typo.yaml").write_text("population_size: 4\nevaluater: {suite: mlp}\n")
    (base / "broken.yaml").write_text("population_size: [\n")
    (base / "file.txt").write_text("not a directory\n")
    (base / "latin1.py").write_bytes(b"\xff\xfedef train(w, g, lr):\n")
    (base / "empty").mkdir()
    (base / "foreign").mkdir()
    (base / "foreign" / "run.sqlite").write_text("not a database")
    return base


# -- bad input: one line on stderr, status 2, nothing written ------------------------------

# (arguments, the whole line on stderr); {ws} is the workspace above, {tmp} the test's own
# empty folder (the working directory), {bad} tests/data/malformed, {lion} the Lion seed.
BAD_INPUT = [
    ("check {ws}/missing.py", "lion-search check: {ws}/missing.py: no such file"),
    ("check {bad}/unknown_op.py",
     "lion-search check: {bad}/unknown_op.py:3:9: unknown op 'softmax'"),
    ("check {ws}/empty", "lion-search check: {ws}/empty: cannot read the file: Is a directory"),
    ("check {ws}/latin1.py",
     "lion-search check: {ws}/latin1.py: cannot read the file: 'utf-8' codec can't decode ..."),
    ("check {ws}/run:x", "lion-search check: {ws}/run:x: expected DIR:ID with a numeric "
                         "program id (or a program file that exists)"),
    ("funcsim {lion} {bad}/syntax_error.py",
     "lion-search funcsim: {bad}/syntax_error.py:3:15: syntax error: ..."),
    ("funcsim {lion} {ws}/run:99",
     "lion-search funcsim: {ws}/run: no program 99 in this run (6 programs)"),
    ("evaluate {bad}/scalar_update.py --tasks mlp", "lion-search evaluate: "
     "{bad}/scalar_update.py:4: the update must be a tensor, but 'n' is a scalar"),
    ("evaluate {lion} --tasks nosuch",
     "lion-search evaluate: unknown suite or task 'nosuch'; suites: ..."),
    ("evaluate {lion} --seeds 0,x",
     "lion-search evaluate: error: argument --seeds: expected integers like 0,1, not '0,x'"),
    ("evaluate {lion} --size huge",
     "lion-search evaluate: error: argument --size: invalid choice: 'huge' (choose from ...)"),
    ("evaluate {lion} --device quantum", "lion-search evaluate: error: argument --device: "
                                         "invalid choice: 'quantum' (choose from ...)"),
    ("evaluate {ws}/nope:3", "lion-search evaluate: {ws}/nope: no such run directory"),
    ("run {ws}/missing.yaml --out {tmp}/out",
     "lion-search run: {ws}/missing.yaml: no such config file"),
    ("run {ws}/broken.yaml --out {tmp}/out",
     "lion-search run: {ws}/broken.yaml:2: not valid YAML: ..."),
    ("run {ws}/good.yaml --out {tmp}/out --set nokey=1",
     "lion-search run: {ws}/good.yaml: unknown key 'nokey' (allowed: ...)"),
    ("run {ws}/good.yaml --out {tmp}/out --set population_size=abc",
     "lion-search run: {ws}/good.yaml: population_size: must be an integer, not 'abc'"),
    ("run {ws}/good.yaml --out {tmp}/out --set population_size",
     "lion-search run: --set population_size: expected key=value"),
    ("run {ws}/good.yaml --out {tmp}/out --set warm_start={bad}/unknown_op.py",
     "lion-search run: {bad}/unknown_op.py:3:9: unknown op 'softmax'"),
    ("run {ws}/good.yaml --out {ws}/file.txt",
     "lion-search run: {ws}/file.txt: not a directory; choose another --out"),
    ("run {ws}/good.yaml --out {ws}/file.txt/run", "lion-search run: {ws}/file.txt/run: "
     "cannot be made: {ws}/file.txt is not a directory; choose another --out"),
    ("run {ws}/good.yaml --out {ws}/run", "lion-search run: {ws}/run: already holds a run; "
                                          "use --resume to continue it or choose another --out"),
    ("run {ws}/good.yaml", "lion-search run: error: the following arguments are required: --out"),
    ("status {ws}/missing", "lion-search status: {ws}/missing: no such run directory"),
    ("status {ws}/empty", "lion-search status: {ws}/empty: not a lion-search run (no run.sqlite)"),
    ("status {ws}/file.txt", "lion-search status: {ws}/file.txt: not a directory"),
    ("status {ws}/foreign", "lion-search status: {ws}/foreign: the run database is damaged or "
                            "foreign (file is not a database)"),
    ("status {ws}/run --bogus", "lion-search: error: unrecognized arguments: --bogus"),
    ("top {ws}/run --by fitness", "lion-search top: error: argument --by: invalid choice: "
                                  "'fitness' (choose from 'proxy', 'meta')"),
    ("show {ws}/run x", "lion-search show: error: argument id: invalid int value: 'x'"),
    ("lineage {ws}/file.txt 1", "lion-search lineage: {ws}/file.txt: not a directory"),
    ("diff {ws}/run 1", "lion-search diff: error: the following arguments are required: b"),
    ("report {ws}/empty --out {tmp}/report",
     "lion-search report: {ws}/empty: not a lion-search run (no run.sqlite)"),
    ("report {ws}/run --out {ws}/file.txt/report", "lion-search report: "
     "{ws}/file.txt/report: cannot write the report (Not a directory)"),
    ("climb {ws}/missing", "lion-search climb: {ws}/missing: no such directory"),
    ("climb {ws}/empty", "lion-search climb: {ws}/empty: neither a run (no run.sqlite) nor an "
                         "experiment with seed-K run stores"),
    ("climb {ws}/foreign", "lion-search climb: {ws}/foreign: the run database is damaged or "
                           "foreign (file is not a database)"),
    ("climb {ws}/run --at ten",
     "lion-search climb: --at takes comma-separated numbers or 'end', not 'ten'"),
    ("mutations {ws}/missing", "lion-search mutations: {ws}/missing: no such directory"),
    ("mutations {ws}/foreign", "lion-search mutations: {ws}/foreign: the run database is "
                               "damaged or foreign (file is not a database)"),
    ("mutations {ws}/run --until -5",
     "lion-search mutations: --until takes a positive number of seconds, not -5"),
    ("simplify {bad}/unknown_op.py",
     "lion-search simplify: {bad}/unknown_op.py:3:9: unknown op 'softmax'"),
    ("simplify {lion} --measure --tasks nosuch",
     "lion-search simplify: unknown suite or task 'nosuch'; suites: ..."),
    ("simplify {lion} --measure --tasks mlp --tolerance -1",
     "lion-search simplify: --tolerance must be >= 0, not -1.0"),
    ("simplify {lion} --measure --seeds x",
     "lion-search simplify: error: argument --seeds: expected integers like 0,1, not 'x'"),
    ("export {bad}/unknown_op.py -o {tmp}/out.py",
     "lion-search export: {bad}/unknown_op.py:3:9: unknown op 'softmax'"),
    ("export {lion} -o {ws}/empty",
     "lion-search export: {ws}/empty is a directory; give the module file to write"),
    ("export {lion} --format torch -o {tmp}/out.py", "lion-search export: error: argument "
                                                     "--format: invalid choice: 'torch' ..."),
    ("bench nosuch", "lion-search bench: error: argument what: invalid choice: 'nosuch' "
                     "(choose from 'eval', 'landscape', 'programs', 'search')"),
    ("bench search --suite mlp", "lion-search bench: --suite: not an option of `bench search`"),
    ("bench eval --batch-size 0", "lion-search bench: --batch-size must be >= 1"),
    ("rediscover {ws}/missing.yaml --seeds 1 --out {tmp}/exp",
     "lion-search rediscover: {ws}/missing.yaml: no such config file"),
    ("rediscover {ws}/typo.yaml --seeds 1 --out {tmp}/exp",
     "lion-search rediscover: {ws}/typo.yaml: unknown key 'evaluater' (allowed: ...)"),
    ("rediscover {ws}/good.yaml --seeds 1 --out {tmp}/exp --budget-s -5",
     "lion-search rediscover: --budget-s must be > 0, not -5.0"),
    ("rediscover {ws}/good.yaml --seeds 1 --out {ws}/file.txt",
     "lion-search rediscover: {ws}/file.txt: not a directory; choose another --out"),
    ("rediscover {ws}/good.yaml --seeds 1 --out {ws}/file.txt/exp",
     "lion-search rediscover: {ws}/file.txt/exp: cannot be made: {ws}/file.txt is not a "
     "directory; choose another --out"),
    ("nosuch", "lion-search: error: argument command: invalid choice: 'nosuch' "
               "(choose from 'check', ...)"),
    ("", "lion-search: error: the following arguments are required: command"),
]


def test_every_command_has_bad_input_in_the_table(tmp_path):
    usage = lion_search("--help", cwd=tmp_path)
    commands = re.search(r"\{([a-z,]+)\}", usage.stdout).group(1).split(",")
    assert usage.returncode == 0 and len(commands) >= 14, usage
    named = {args.split()[0] for args, _ in BAD_INPUT if args}
    assert named - {"nosuch"} == set(commands)


@pytest.mark.parametrize("args, expected", BAD_INPUT, ids=[a or "(none)" for a, _ in BAD_INPUT])
def test_bad_input_is_one_line_status_2_and_writes_nothing(workspace, tmp_path, args,
                                                            expected):
    names = {"ws": workspace, "tmp": tmp_path, "bad": MALFORMED, "lion": LION}
    before = files(workspace, tmp_path)
    done = lion_search(*args.format(**names).split(), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, ""), done
    assert done.stderr.endswith("\n") and done.stderr.count("\n") == 1, done.stderr
    assert pattern(expected.format(**names)).fullmatch(done.stderr[:-1]), done.stderr
    assert files(workspace, tmp_path) == before


# -- success: status 0, nothing on stderr, the line that matters ---------------------------

@pytest.fixture
def run_with_meta(tmp_path):
    """The synthetic run, with the elapsed time and first Lion a real run records."""
    directory = tmp_path / "run"
    run = make_synthetic_run(directory)
    store = RunStore.open(directory)
    store.set_meta("elapsed", "12.5")
    store.set_meta("first_lion", json.dumps({"program": run["lion"], "evaluations": 3,
                                             "elapsed_s": 4.0}))
    store.close()
    return directory, run


def test_status_json_is_the_stores_and_the_text_says_the_same(run_with_meta, tmp_path):
    directory, run = run_with_meta
    done = lion_search("status", directory, "--json", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    report = json.loads(done.stdout)
    (programs, joined, hits, statements, redundant), = sql(
        directory, "SELECT COUNT(*), COUNT(joined), SUM(cache_hit), SUM(statements), "
                   "SUM(redundant) FROM programs")
    (evaluations, failed, best), = sql(
        directory, "SELECT COUNT(*), SUM(status != 'ok'), MAX(CASE WHEN status = 'ok' THEN "
                   "fitness END) FROM evaluations WHERE suite = 'proxy'")
    (meta, best_meta), = sql(directory, "SELECT COUNT(*), MAX(fitness) FROM evaluations "
                                        "WHERE suite != 'proxy'")
    last = json.loads(sql(directory, "SELECT data FROM stats ORDER BY id DESC LIMIT 1")[0][0])
    assert report == {
        "programs": programs, "joined": joined, "pending": programs - joined,
        "evaluations": evaluations, "failed_evaluations": failed,
        "meta_evaluations": meta, "cache_hits": hits, "cache_hit_rate": hits / joined,
        "redundant_share": redundant / statements, "best_fitness": best,
        "best_meta_fitness": best_meta, "elapsed": 12.5,
        "first_lion": {"program": run["lion"], "evaluations": 3, "elapsed_s": 4.0},
        "invalid": last["invalid"], "islands": 1, "island_best": []}
    assert (programs, programs - joined, evaluations, failed, best) == (6, 1, 4, 1, 0.25)

    text = lion_search("status", directory, cwd=tmp_path)
    assert (text.returncode, text.stderr) == (0, "")
    assert text.stdout == (
        f"{directory}: 6 programs (1 pending), 4 evaluations (1 failed), cache-hit rate "
        f"{hits / joined:.1%}, redundant statements {redundant / statements:.1%}, best "
        "fitness +0.2500, 12 s\n")


def test_status_of_a_run_with_nothing_evaluated(tmp_path):
    RunStore.create(tmp_path / "run", {"seed": 0}).close()
    done = lion_search("status", tmp_path / "run", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (f"{tmp_path / 'run'}: 0 programs (0 pending), 0 evaluations "
                           "(0 failed), cache-hit rate 0.0%, redundant statements 0.0%, "
                           "best fitness -, 0 s\n")


def test_evaluate_prints_the_fitness_of_lion(workspace, tmp_path):
    # The smallest evaluation there is: one task, one seed, the step size as written.
    options = ["--tasks", "mlp", "--seeds", "0", "--step-size", "fixed"]
    done = lion_search("evaluate", LION, *options, "--json", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    report = json.loads(done.stdout)
    assert set(report) == {"fitness", "losses", "task_fitness", "status", "reason",
                           "seconds", "step_size", "multipliers", "reference",
                           "reference_multipliers", "seeds", "size"}
    assert (report["status"], report["reason"], report["step_size"], report["seeds"],
            report["size"]) == ("ok", None, "fixed", [0], "proxy")
    assert list(report["losses"]) == list(report["reference"]) == ["mlp"]
    assert report["multipliers"] == {"mlp": 1.0}  # fixed: the step as the program writes it
    fitness, loss = report["fitness"], report["losses"]["mlp"]
    assert math.isfinite(fitness) and loss > 0
    # fitness: the log of AdamW's loss over the program's (one task: that task's)
    assert fitness == report["task_fitness"]["mlp"] == pytest.approx(
        math.log(report["reference"]["mlp"] / loss), rel=1e-6)

    # The same program as DIR:ID of a run, in the text form: the same numbers.
    ref = f"{workspace / 'run'}:3"  # the synthetic run's program 3 is the Lion seed
    text = lion_search("evaluate", ref, *options, cwd=tmp_path)
    assert (text.returncode, text.stderr) == (0, "")
    first, row = text.stdout.splitlines()
    assert first == f"{ref}: fitness {fitness:+.4f} (ok), step size fixed"
    assert row.split() == ["mlp", "loss", f"{loss:.4f}", "at", "step", "x1", "(AdamW",
                           f"{report['reference']['mlp']:.4f}", "at", "x1)", "fitness",
                           f"{fitness:+.4f}"]


# The quick commands through the console script: status 0, stderr empty, and the first
# line of what they print (their content is pinned in the tests beside each command).
SUCCESS = [
    ("check {lion}", "{lion}: valid; 7 statements, 0 redundant; live state slots: m"),
    ("funcsim {lion} {ws}/run:3", "similarity 1.0000: same behaviour"),
    ("top {ws}/run -n 2", "{ws}/run: best 2 by proxy fitness (6 programs, 4 evaluations, 0 s)"),
    ("show {ws}/run 3",
     "program 3 (island 0), born ... s into the run, after 2 evaluations"),
    ("lineage {ws}/run 3", "{ws}/run: lineage of program 3 (2 mutations from the warm start)"),
    ("diff {ws}/run 1 4", "{ws}/run: program 1 vs program 4"),
    ("report {ws}/run --out {tmp}/report", "{tmp}/report/index.html (5 files: fitness.png, "
                                           "rates.png, length.png, data.json, index.html)"),
    ("simplify {lion}", "{lion}: 7 statements, 2 state slots -> 7 statements, 1 state slot"),
    ("export {lion} -o {tmp}/lion_optax.py", "wrote {tmp}/lion_optax.py (optax)"),
]


@pytest.mark.parametrize("args, first_line", SUCCESS, ids=[a for a, _ in SUCCESS])
def test_success_is_status_0_with_nothing_on_stderr(workspace, tmp_path, args, first_line):
    names = {"ws": workspace, "tmp": tmp_path, "lion": LION}
    before = files(workspace)
    done = lion_search(*args.format(**names).split(), cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, ""), done
    assert pattern(first_line.format(**names)).fullmatch(done.stdout.splitlines()[0]), \
        done.stdout
    assert files(workspace) == before  # the run is only read


def test_bench_programs_json(tmp_path):
    done = lion_search("bench", "programs", "--quick", "--json", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    result = json.loads(done.stdout)
    assert result["children_per_s"] > 0 and result["fingerprints_per_s"] > 0
    assert result["pool"] == 50 and result["rounds"] == 3  # --quick
    assert {"platform", "python", "cpus"} <= set(result["machine"])


@pytest.mark.slow
def test_bench_eval_on_the_smallest_suite(tmp_path):
    done = lion_search("bench", "eval", "--quick", "--suite", "mlp", "--seeds", "0",
                       "--batch-size", "2", "--json", cwd=tmp_path, timeout=600)
    assert (done.returncode, done.stderr) == (0, "")
    result = json.loads(done.stdout)
    assert (result["suite"], result["seeds"], result["batch_size"]) == (["mlp"], [0], 2)
    assert result["agree"] == {"interpreter_vs_compiled": True,
                               "interpreter_adamw_vs_handwritten": True}
    assert list(result["per_task"]) == ["mlp"] and result["programs_per_s"] > 0
