"""Shared test helpers, and one compilation cache for the whole test run.

Every end-to-end test starts Ray actors that compile the same smoke suite; the run's
processes (pytest-xdist workers, the command-line subprocesses, their Ray actors) share a
fresh persistent compilation cache (:mod:`evaluators.compile_cache`), made when the run
starts and removed when it ends, so each compiles once per run, not once per actor. Every
Ray instance a test starts listens on 127.0.0.1 only (:mod:`search.ray_cluster`), whoever
imports Ray first. In CI (``CI=true``) a skipped test is a failure: CI installs every extra
and runs on Linux, so a skip there means a test silently did not run.
"""

import os
import shutil
import tempfile
import textwrap

import pytest

from evaluators.compile_cache import ENV as XLA_CACHE_ENV
from programs.parser import parse
from search.ray_cluster import LOCAL_ONLY

os.environ[LOCAL_ONLY] = "0"  # before anything imports Ray


def pytest_configure(config):
    # Only the process that starts the run makes the cache (xdist workers inherit it).
    if not hasattr(config, "workerinput") and XLA_CACHE_ENV not in os.environ:
        config._lion_xla_cache = tempfile.mkdtemp(prefix="lion-search-tests-xla-")
        os.environ[XLA_CACHE_ENV] = config._lion_xla_cache


def pytest_unconfigure(config):
    made = getattr(config, "_lion_xla_cache", None)
    if made:
        shutil.rmtree(made, ignore_errors=True)
        os.environ.pop(XLA_CACHE_ENV, None)


def _fail_skips_in_ci(report) -> None:
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skips_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield  # a module-level importorskip skips its whole module here
    _fail_skips_in_ci(outcome.get_result())


def program(text: str):
    """Parse a dedented program text."""
    return parse(textwrap.dedent(text).strip("\n") + "\n")


@pytest.fixture
def make_program():
    return program
