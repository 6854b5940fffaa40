"""The persistent compilation cache: where it lives, that the evaluator fills it, and that
a suite read back from it trains exactly as a freshly compiled one."""

import json
import os
import subprocess
import sys

import pytest

from evaluators.compile_cache import ENV

EVALUATE_LION = """
import json
from evaluators.suite import EvaluatorConfig, SuiteEvaluator
from programs.seed_programs import load_seed
evaluator = SuiteEvaluator(EvaluatorConfig(suite="mlp", seeds=(0,), batch_size=1,
                                           step_size="fixed"))
print(json.dumps(evaluator.evaluate([load_seed("lion")])[0].losses))
"""


def run_python(code: str, cache: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    env[ENV] = cache
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_off_turns_it_off_and_a_directory_is_made(tmp_path):
    code = "from evaluators import compile_cache; print(compile_cache.enable())"
    assert run_python(code, "off") == "None"
    assert run_python(code, str(tmp_path / "xla")) == str(tmp_path / "xla")
    assert (tmp_path / "xla").is_dir()


@pytest.mark.slow
def test_a_suite_read_from_the_cache_trains_as_a_fresh_compile(tmp_path):
    cache = tmp_path / "xla"
    fresh = json.loads(run_python(EVALUATE_LION, str(cache)))
    entries = sorted(os.listdir(cache))
    assert any(name.startswith("jit_losses") for name in entries), entries
    again = json.loads(run_python(EVALUATE_LION, str(cache)))
    assert again == fresh  # bit for bit
    assert sorted(os.listdir(cache)) == entries  # read back, nothing compiled anew
