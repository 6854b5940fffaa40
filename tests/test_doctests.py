"""The examples in the docstrings run and say what they claim.

Every module of every package is found by walking the packages, so a module added
later is covered without editing a list. A module must run every example its source
shows (each ``>>>`` line starts one): doctest finds examples only in the docstrings of
what the module itself defines, so an example left where doctest does not look would
otherwise never run, and a module whose examples all vanished would pass with none.
"""

import doctest
import importlib
import pkgutil
import re

import pytest

PACKAGES = ("programs", "evaluators", "search", "lion")
# Modules whose examples train models (over ~20 s from a cold compilation cache).
SLOW = {"evaluators.measured_simplification", "evaluators.suite"}
# Modules that need an optional extra: skipped where it is not installed.
OPTIONAL = {"lion.torch": "torch"}
EXAMPLE = re.compile(r"^\s*>>>(\s|$)", re.MULTILINE)


def module_names() -> list[str]:
    names = []
    for package in PACKAGES:
        names.append(package)
        path = importlib.import_module(package).__path__
        # (a __main__ module runs its program when imported: it holds no examples)
        names += [info.name for info in pkgutil.walk_packages(path, f"{package}.")
                  if not info.name.endswith(".__main__")]
    return sorted(names)


MODULES = module_names()


def test_the_walk_finds_the_modules():
    # The walk itself works: subpackages are entered, and the lists here are not stale.
    assert {"programs.ops", "evaluators.fitness", "evaluators.tasks.mlp", "search.cli",
            "lion.optax_lion"} <= set(MODULES)
    assert SLOW <= set(MODULES) and set(OPTIONAL) <= set(MODULES)


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow)
                                  if name in SLOW else name for name in MODULES])
def test_docstring_examples(name):
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name])
    module = importlib.import_module(name)
    with open(module.__file__, encoding="utf-8") as source:  # (inspect: not if empty)
        examples = len(EXAMPLE.findall(source.read()))
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"
    assert result.attempted == examples, (
        f"{name} shows {examples} examples (>>> lines) but doctest ran "
        f"{result.attempted}: put examples in the docstrings of what the module defines")
