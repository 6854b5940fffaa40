"""Ray evaluator actors: each compiles its suites once and evaluates batches of programs.

One actor per accelerator (``gpus_per_actor`` may be fractional) where the cluster has
GPUs and the evaluator's device allows them, else one per CPU core with XLA held to one
thread. An evaluator that asks for a GPU the cluster lacks is refused before anything
starts (:class:`DeviceError`). Actors restart by themselves
when their process dies (``max_restarts=-1``); the batch they held fails with an actor
error and the controller resubmits it, so every program is evaluated exactly once.

Example:
    >>> plan = plan_actors({"CPU": 2.0}, requested=None, gpus_per_actor=1.0)
    >>> plan.count, plan.num_gpus, plan.env["XLA_FLAGS"].split()[0]
    (2, 0.0, '--xla_cpu_multi_thread_eigen=false')
    >>> plan_actors({"CPU": 2.0}, requested=None, gpus_per_actor=1.0, device="gpu")
    Traceback (most recent call last):
    ...
    search.workers.DeviceError: evaluator.device is 'gpu' but the Ray cluster has no GPU (CPU 2)
"""

from __future__ import annotations

import dataclasses
import os
import socket

SINGLE_THREAD_XLA = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


@dataclasses.dataclass(frozen=True)
class ActorPlan:
    """How many actors, with which resources and environment."""

    count: int
    num_cpus: float
    num_gpus: float
    env: dict = dataclasses.field(default_factory=dict)


class DeviceError(ValueError):
    """The evaluator's device is not in the cluster."""


def plan_actors(resources: dict, requested: int | None, gpus_per_actor: float,
                device: str | None = None) -> ActorPlan:
    """Actors for a cluster with ``resources`` (``ray.cluster_resources()``).

    ``device`` is the evaluator's: ``"gpu"`` needs GPUs in the cluster, ``"cpu"`` keeps
    the actors off them, None takes GPUs where there are some.
    """
    gpus = float(resources.get("GPU", 0.0))
    cpus = max(1, int(resources.get("CPU", 1.0)))
    if device == "gpu" and gpus <= 0:
        have = ", ".join(f"{name} {value:g}" for name, value in sorted(resources.items())
                         if name in ("CPU", "GPU", "TPU"))
        raise DeviceError(f"evaluator.device is 'gpu' but the Ray cluster has no GPU ({have})")
    if gpus > 0 and device != "cpu":
        count = requested or max(1, int(gpus / gpus_per_actor))
        # JAX takes 75% of a GPU's memory at start; actors sharing a GPU take their share.
        env = {} if gpus_per_actor >= 1 else {
            "XLA_PYTHON_CLIENT_MEM_FRACTION": f"{0.9 * gpus_per_actor:.3f}"}
        return ActorPlan(count, num_cpus=1.0, num_gpus=gpus_per_actor, env=env)
    env = {"XLA_FLAGS": SINGLE_THREAD_XLA, "JAX_PLATFORMS": "cpu",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return ActorPlan(requested or cpus, num_cpus=1.0, num_gpus=0.0, env=env)


class EvaluatorWorker:
    """The actor body (wrapped with ``ray.remote`` by :func:`make_actor`).

    ``evaluate(suite_kind, sources, centres)`` returns one result dict per program source:
    ``fitness``, ``losses``, ``task_fitness``, ``status``, ``reason``, ``seconds``,
    ``multipliers`` and ``runs``. ``suite_kind`` is ``"proxy"`` or ``"meta"``; each suite
    compiles on first use. ``centres`` (per program, ``{task: multiplier}`` or None) say
    where each step-size search starts, ``hurdles`` (per program, a fitness or None) the
    fitness it must reach there to be tuned, ``bars`` (per program, a fitness or None)
    the fitness at which it is confirmed on the held-out seeds.
    """

    def __init__(self, evaluator: dict, meta_suite: str, name: str):
        self.settings = evaluator
        self.meta_suite = meta_suite
        self.name = f"{name}@{socket.gethostname()}:{os.getpid()}"
        self.evaluators = {}

    def _evaluator(self, kind: str):
        from evaluators.suite import EvaluatorConfig, SuiteEvaluator

        if kind not in self.evaluators:
            settings = {key: tuple(value) if isinstance(value, list) else value
                        for key, value in self.settings.items()}
            if kind == "meta":  # the best programs on larger tasks: no selection there
                settings["suite"] = self.meta_suite
                settings["confirm_seeds"] = ()
            self.evaluators[kind] = SuiteEvaluator(EvaluatorConfig(**settings))
        return self.evaluators[kind]

    def evaluate(self, kind: str, sources: list[str], centres: list | None = None,
                 hurdles: list | None = None, bars: list | None = None
                 ) -> tuple[str, list[dict]]:
        from programs.parser import parse

        programs = [parse(source) for source in sources]
        results = self._evaluator(kind).evaluate(programs, centres, hurdles, bars)
        return self.name, [result._asdict() for result in results]

    def warm_up(self) -> str:
        """Compile the proxy suite (and evaluate the reference); returns the worker name."""
        self._evaluator("proxy").reference_losses()
        return self.name

    def pid(self) -> int:
        return os.getpid()


def make_actor(plan: ActorPlan, evaluator: dict, meta_suite: str, name: str):
    """Start one evaluator actor with ``plan``'s resources."""
    import ray

    remote = ray.remote(EvaluatorWorker).options(
        num_cpus=plan.num_cpus, num_gpus=plan.num_gpus, max_restarts=-1,
        max_task_retries=0, runtime_env={"env_vars": plan.env} if plan.env else None,
        name=None)
    return remote.remote(evaluator, meta_suite, name)


def start_actors(config, count: int | None = None, prefix: str = "actor"):
    """``(plan, actors)``: evaluator actors for a :class:`~search.config.SearchConfig` on
    the current cluster.

    ``count`` overrides ``config.workers.actors`` (None: the config's, else the plan's).
    """
    import ray

    plan = plan_actors(ray.cluster_resources(), count or config.workers.actors,
                       config.workers.gpus_per_actor, config.evaluator.device)
    evaluator = evaluator_settings(config)
    return plan, [make_actor(plan, evaluator, config.meta_validation.suite, f"{prefix}-{i}")
                  for i in range(plan.count)]


def evaluator_settings(config) -> dict:
    """Every ``evaluator`` setting of a :class:`~search.config.SearchConfig` as plain
    data for the actors (all of them: a setting left out would silently not apply).

    >>> from search.config import SearchConfig
    >>> evaluator_settings(SearchConfig())["confirm_seeds"]
    []
    """
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(config.evaluator).items()}
