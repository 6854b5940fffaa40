"""Proxy tasks: small JAX training problems that judge optimizer programs.

    >>> from evaluators.tasks import get_task, task_names
    >>> task_names()
    ['charlm', 'mlp', 'mnist1d', 'vit', 'vit_b8']
"""

from evaluators.tasks.registry import (DEFAULT_CPU_SUITE, FAMILIES, GPU_SUITE, SIZE_NAMES,
                                       SUITES, get_suite, get_task, task_config, task_names)
from evaluators.tasks.schedule import warmup_cosine
from evaluators.tasks.task import ProxyTask

__all__ = ["DEFAULT_CPU_SUITE", "FAMILIES", "GPU_SUITE", "SIZE_NAMES", "SUITES", "ProxyTask",
           "get_suite", "get_task", "task_config", "task_names", "warmup_cosine"]
