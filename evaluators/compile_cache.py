"""A persistent cache of compiled suites, shared by every process on a machine.

Each evaluator actor compiles its suite (one jitted training function per task), which on
CPU costs most of the time a short search or a resume spends before its first result.
The compiled code depends only on the task, the batch shape and the settings, so JAX's
persistent compilation cache can hand it to every later actor: the second process to
compile the CPU smoke suite takes ~5 s instead of ~18 s (measured on a 2-core laptop).

Where it lives, first match wins:

* ``JAX_COMPILATION_CACHE_DIR`` (JAX's own setting) when set: left as it is;
* ``LION_SEARCH_XLA_CACHE``: a directory, or ``off`` to compile everything afresh;
* ``$XDG_CACHE_HOME/lion-search/xla`` (``~/.cache/lion-search/xla``).

It must be enabled before the process compiles anything (JAX decides once); the
evaluator does so when it is built, benchmarks that time compilation turn it off.

Example:
    >>> cache_dir({"LION_SEARCH_XLA_CACHE": "/tmp/xla"})
    '/tmp/xla'
    >>> cache_dir({"LION_SEARCH_XLA_CACHE": "off"}) is None
    True
    >>> cache_dir({"HOME": "/home/ada"})
    '/home/ada/.cache/lion-search/xla'
"""

from __future__ import annotations

import os
from typing import Mapping

import jax

ENV = "LION_SEARCH_XLA_CACHE"


def cache_dir(environ: Mapping[str, str] = os.environ) -> str | None:
    """The cache directory ``environ`` asks for, None when it is turned off."""
    chosen = environ.get(ENV, "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        return chosen
    base = environ.get("XDG_CACHE_HOME") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".cache")
    return os.path.join(base, "lion-search", "xla")


def enable() -> str | None:
    """Turn the persistent cache on for this process; returns its directory (None: off).

    JAX's own ``JAX_COMPILATION_CACHE_DIR`` wins when it is set.
    """
    if jax.config.jax_compilation_cache_dir:
        return jax.config.jax_compilation_cache_dir
    directory = cache_dir()
    if directory is None or not jax.config.jax_enable_compilation_cache:
        return None
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError:  # a read-only home: compile afresh, as without a cache
        return None
    jax.config.update("jax_compilation_cache_dir", directory)
    return directory


def disable() -> None:
    """Compile everything afresh in this process (benchmarks that time compilation)."""
    jax.config.update("jax_enable_compilation_cache", False)
