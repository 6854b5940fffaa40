"""``lion-search report``: the HTML page, its plots and the numbers behind them.

The plotted numbers (``data.json``) are compared with SQL on the run's database; the
page must name the top programs with their fitness, link only relatively, and its PNG
files must be real images.
"""

import json
import re

import numpy as np
import pytest

from inspect_helpers import cli, make_synthetic_run, shared_real_run, sql, top_by_sql
from search.cli.report import write_atomic
from search.store import RunStore

FILES = {"index.html", "data.json", "fitness.png", "rates.png", "length.png"}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    directory = tmp_path_factory.mktemp("synthetic") / "run"
    run = make_synthetic_run(directory)
    status, out, err = cli("report", directory)
    assert status == 0, err
    return directory, run, out


@pytest.fixture(scope="session")
def real(tmp_path_factory):  # one real search for test_inspect and test_report
    return shared_real_run(tmp_path_factory)


def load(directory):
    report = directory / "report"
    return (report / "index.html").read_text(), json.loads((report / "data.json").read_text())


def assert_images(folder):
    from matplotlib.image import imread

    for name in ("fitness.png", "rates.png", "length.png"):
        path = folder / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = imread(path)
        assert image.shape[0] > 100 and image.shape[1] > 100
        assert np.ptp(image[..., :3]) > 0  # not a blank canvas


def expected_fitness_curve(run_dir, window):
    fitness = [f for (f,) in sql(run_dir, "SELECT fitness FROM programs WHERE joined IS NOT "
                                          "NULL ORDER BY joined")]
    best = list(np.maximum.accumulate(fitness))
    median = [float(np.median(fitness[max(0, i + 1 - window):i + 1]))
              for i in range(len(fitness))]
    return best, median


def test_report_files_and_message(synthetic):
    directory, _, out = synthetic
    assert {p.name for p in (directory / "report").iterdir()} == FILES  # no temp files left
    assert out.strip() == (f"{directory / 'report' / 'index.html'} (5 files: fitness.png, "
                           "rates.png, length.png, data.json, index.html)")
    assert_images(directory / "report")


def test_report_page_names_the_top_programs(synthetic):
    directory, run, _ = synthetic
    page, _ = load(directory)
    for pid, fitness in run["top"]:
        assert f"program {pid}, fitness {fitness:+.4f}" in page
        assert f"id='program-{pid}'" in page
    assert "First Lion-family program" in page and f"href='#program-{run['lion']}'" in page
    lineage = page.split(f"id='program-{run['lion']}'")[1].split("</section>")[0]
    assert "warm start (adamw)" in lineage and "+0.7500" in lineage
    assert "+0.1250" in page  # its meta-validation fitness


def test_report_links_are_relative(synthetic):
    page, _ = load(synthetic[0])
    links = re.findall(r"(?:src|href)='([^']*)'", page)
    assert {"fitness.png", "rates.png", "length.png", "data.json"} <= set(links)
    assert all(not re.match(r"^(/|[a-z]+:)", link) for link in links), links


def test_report_numbers_are_the_stores(synthetic):
    directory, run, _ = synthetic
    _, data = load(directory)
    best, median = expected_fitness_curve(directory, data["fitness"]["window"])
    assert data["fitness"]["best"] == best and data["fitness"]["median"] == median
    assert data["fitness"]["x"] == list(range(1, len(best) + 1))
    rows = [json.loads(d) for (d,) in sql(directory, "SELECT data FROM stats ORDER BY id")]
    rates = data["rates"]
    assert rates["cache_hit_rate"] == [r["cache_hit_rate"] for r in rows]
    assert rates["invalid_share"] == [r["invalid"] / (r["invalid"] + r["programs"])
                                      for r in rows]
    assert rates["failed_share"] == [r["failed_evaluations"] / r["evaluations"]
                                     if r["evaluations"] else 0.0 for r in rows]
    lengths = sql(directory, "SELECT id, statements, statements - redundant FROM programs "
                             "ORDER BY id")
    assert list(zip(data["length"]["x"], data["length"]["statements"],
                    data["length"]["live"])) == lengths
    lion = data["first_lion"]
    assert lion["status"] == "found" and lion["id"] == run["lion"]
    assert lion["joined_rank"] == 3  # the third program to get a fitness
    assert [t["id"] for t in data["top"]] == [pid for pid, _ in run["top"]]


def test_report_without_a_recogniser_or_any_evaluation(tmp_path, monkeypatch):
    import search.cli.program_marks as marks

    monkeypatch.setattr(marks, "_optional", lambda module, name: None)
    RunStore.create(tmp_path / "run", {"seed": 0}).close()
    status, _, err = cli("report", tmp_path / "run", "--out", tmp_path / "elsewhere")
    assert status == 0, err
    page = (tmp_path / "elsewhere" / "index.html").read_text()
    assert "No program has been evaluated yet" in page
    assert "recognition is not available" in page
    assert_images(tmp_path / "elsewhere")


def test_write_atomic_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "index.html"
    write_atomic(target, b"old")
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]


def test_report_bad_n_and_unwritable_out(synthetic, tmp_path):
    assert cli("report", synthetic[0], "-n", "0", "--out", tmp_path / "report") == (
        2, "", "lion-search report: -n must be at least 1 (got 0)\n")
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cli("report", synthetic[0], "--out", blocker / "report") == (
        2, "", f"lion-search report: {blocker / 'report'}: cannot write the report "
               "(Not a directory)\n")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


@pytest.mark.slow
def test_report_of_a_real_search(real):
    run_dir = real["dir"]
    status, _, err = cli("report", run_dir, "-n", "5")
    assert status == 0, err
    page, data = load(run_dir)
    for top in top_by_sql(run_dir, 5):
        assert f"program {top['id']}, fitness {top['fitness']:+.4f}" in page
    best, median = expected_fitness_curve(run_dir, data["fitness"]["window"])
    assert data["fitness"]["best"] == best and data["fitness"]["median"] == median
    assert data["fitness"]["best"][-1] == sql(
        run_dir, "SELECT MAX(fitness) FROM evaluations WHERE suite='proxy' AND "
                 "status='ok'")[0][0]
    (programs,), = sql(run_dir, "SELECT COUNT(*) FROM programs")
    assert data["counts"]["programs"] == programs == len(data["length"]["x"])
    assert len(data["rates"]["elapsed"]) == sql(run_dir, "SELECT COUNT(*) FROM stats")[0][0]
    assert data["first_lion"]["status"] in ("found", "none")
    note = "First Lion-family" if data["first_lion"]["status"] == "found" else \
        "No Lion-family program appeared"
    assert note in page
    assert_images(run_dir / "report")
