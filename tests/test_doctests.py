"""The examples in the docstrings run and say what they claim."""

import doctest
import importlib
import pkgutil

import pytest

import programs

MODULES = sorted(f"programs.{m.name}" for m in pkgutil.iter_modules(programs.__path__)) + [
    "evaluators.step_size", "evaluators.landscape", "evaluators.fitness"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and (result.attempted > 0 or not module.__doc__ or
                                   ">>>" not in (module.__doc__ or ""))
