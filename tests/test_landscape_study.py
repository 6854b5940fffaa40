"""The suite study's command line and its offline scoring of measured variants."""

import json
from pathlib import Path

import pytest

from evaluators.landscape_study import combine, main, panel_entries

MEASURED = Path(__file__).resolve().parent.parent / "docs" / "landscape" / "cautious"


def test_a_subset_of_the_panel_always_holds_lion_first():
    assert [e.name for e in panel_entries("cautious_signum_0.92,lion,signum_0.8")] == \
        ["lion", "cautious_signum_0.92", "signum_0.8"]
    assert len(panel_entries(None)) > 20


@pytest.mark.parametrize("args, message", [
    (["--variants", "mlp", "--programs", "lion,nosuch"], "unknown panel program(s) nosuch; "
                                                         "the panel: adamw, "),
    (["--variants", "nosuch"], "unknown variant(s) nosuch; variants: vit_s150, "),
])
def test_bad_names_are_one_line_and_measure_nothing(tmp_path, capsys, args, message):
    assert main(["run", "--out", str(tmp_path / "out"), *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(message) and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_one_variant_combined_is_its_own_landscape():
    # The offline score of a suite of one measured variant reproduces what the
    # landscape computed when it ran (fitness, paired difference from Lion, its SE).
    measured = json.loads((MEASURED / "vit_s600_b8.json").read_text())
    suite = {p["name"]: p for p in combine([measured])["programs"]}
    for row in measured["programs"]:
        assert suite[row["name"]]["fitness"] == pytest.approx(row["fitness"], abs=1e-4)
        assert suite[row["name"]]["diff_vs_lion"] == pytest.approx(row["diff_vs_lion"],
                                                                   abs=1e-4)
        assert suite[row["name"]]["se_vs_lion"] == pytest.approx(row["se_vs_lion"], abs=1e-4)


def test_a_suite_is_the_mean_of_its_variants_per_seed():
    names = ["vit_s150", "vit_s600"]
    results = [json.loads((MEASURED / f"{n}.json").read_text()) for n in names]
    suite = combine(results)
    rows = {p["name"]: p for p in suite["programs"]}
    for name, row in rows.items():
        alone = [next(p for p in r["programs"] if p["name"] == name)["fitness"]
                 for r in results]
        assert row["fitness"] == pytest.approx(sum(alone) / 2, abs=1e-4)
    assert suite["weakest_margin"]["over"] == "cautious_signum_0.92"
    assert suite["best_program"] == "cautious_signum_0.92" and not suite["best_has_lion_core"]
