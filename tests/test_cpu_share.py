"""``benchmarks/cpu_share.py`` tells the search's processes apart by their command lines;
the names it looks for are the ones the search's processes carry."""

import importlib.util
from pathlib import Path

from search.workers import EvaluatorWorker

SPEC = importlib.util.spec_from_file_location(
    "cpu_share", Path(__file__).parent.parent / "benchmarks" / "cpu_share.py")
cpu_share = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(cpu_share)


def test_the_actors_are_found_by_the_worker_class_ray_names_them_after():
    # Ray titles an actor's process ray::<class>.<method> while it runs one.
    assert cpu_share.group(f"ray::{EvaluatorWorker.__name__}.evaluate") == "actors"
    assert cpu_share.group(f"ray::{EvaluatorWorker.__name__}") == "actors"
    assert cpu_share.group("/x/.venv/bin/python3.11 /x/.venv/bin/lion-search run c.yaml "
                           "--out runs/q") == "controller"
    assert cpu_share.group("/x/site-packages/ray/core/src/ray/raylet/raylet "
                           "--node_ip_address=127.0.0.1") == "ray"
    assert cpu_share.group("ray::IDLE") == "ray"
    assert cpu_share.group("/usr/bin/python3 -m pytest") == "other"


def test_a_window_accounts_for_this_process_and_the_cores():
    result = cpu_share.shares(0.2)
    assert set(result["cores_used"]) == set(cpu_share.GROUPS)
    assert result["cores"] >= 1 and all(v >= 0 for v in result["cores_used"].values())
