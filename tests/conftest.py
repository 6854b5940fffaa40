"""Shared test helpers."""

import textwrap

import pytest

from programs.parser import parse


def program(text: str):
    """Parse a dedented program text."""
    return parse(textwrap.dedent(text).strip("\n") + "\n")


@pytest.fixture
def make_program():
    return program
