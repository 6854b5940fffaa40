"""Search configs: YAML files whose every key is validated, with ``--set`` overrides.

A config is a tree of frozen dataclasses; loading checks each key against the fields
(an unknown key names itself and the keys allowed there) and each value against its
type and range, and fails with one line naming the file and the key.

Example:
    >>> config = load_config_text("population_size: 20\\nislands: 2\\n", "inline.yaml")
    >>> config.population_size, config.tournament_size
    (20, 5)
    >>> load_config_text("populaton_size: 20\\n", "bad.yaml")
    Traceback (most recent call last):
    ...
    search.config.ConfigError: bad.yaml: unknown key 'populaton_size' (allowed: ...)
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from evaluators.step_size import FIRST_PROBE_MULTIPLES


class ConfigError(ValueError):
    """A config file or override that is not valid; one line naming where."""


@dataclass(frozen=True)
class MutationSettings:
    """Weights of the three mutation kinds and the program-length cap."""

    insert: float = 1.0
    delete: float = 1.0
    modify: float = 1.0
    max_length: int = 24
    constant_prob: float = 0.2


@dataclass(frozen=True)
class RestartSettings:
    """Restart an island whose best fitness has not improved for ``plateau`` children.

    Restarts alternate between the warm start and the best program found so far.
    ``plateau: 0`` disables restarts.
    """

    plateau: int = 0


@dataclass(frozen=True)
class MigrationSettings:
    """Every ``every`` children (on all islands together), each island receives a copy of
    the best program of the island before it, on a ring. ``every: 0`` (or one island):
    the islands never exchange programs.
    """

    every: int = 0


@dataclass(frozen=True)
class EvaluatorSettings:
    """What programs are trained on (see :class:`evaluators.suite.EvaluatorConfig`)."""

    suite: str = "cpu"
    seeds: tuple[int, ...] = (0, 1)
    batch_size: int = 4
    max_length: int = 32
    device: typing.Optional[str] = None
    program_axis: typing.Optional[str] = None
    step_size: str = "tuned"
    tune_seeds: int = 1
    sign_flips: bool = True
    schedule_input: bool = False
    scale_gradients: bool = True
    hurdle_probes: tuple[float, ...] = (1.0,)
    confirm_seeds: tuple[int, ...] = ()


@dataclass(frozen=True)
class WorkerSettings:
    """Ray evaluator actors.

    ``actors: null`` means one per GPU when there are GPUs, else one per CPU core.
    ``gpus_per_actor`` may be fractional. ``inflight`` batches are queued per actor so
    that no actor waits on the controller.
    """

    actors: typing.Optional[int] = None
    gpus_per_actor: float = 1.0
    inflight: int = 2


@dataclass(frozen=True)
class MetaValidationSettings:
    """Re-evaluate the best programs on the larger tasks every ``every`` evaluations."""

    suite: str = "meta10"
    every: int = 100
    top_k: int = 3


@dataclass(frozen=True)
class StopSettings:
    """When the run ends by itself (any that is set; null means no limit).

    ``at_first_lion``: stop once a Lion-family program has been evaluated (as
    ``lion-search rediscover`` does).
    """

    max_programs: typing.Optional[int] = None
    max_evaluations: typing.Optional[int] = None
    time_limit_s: typing.Optional[float] = None
    target_fitness: typing.Optional[float] = None
    at_first_lion: bool = False


@dataclass(frozen=True)
class RaySettings:
    """``address: null`` starts (and stops) a local Ray instance; else join a cluster."""

    address: typing.Optional[str] = None
    dashboard: bool = False


@dataclass(frozen=True)
class SearchConfig:
    """One search job.

    ``hurdle_margin`` (tuned step size only; null: off): a child is first trained once,
    on the tuning seeds at its parent's step size per unit of update; when its fitness
    there is more than the margin below its parent's, it is scored there and not tuned
    (AutoML-Zero's hurdle: most children are much worse than their parents).
    """

    seed: int = 0
    warm_start: str = "adamw"
    population_size: int = 20
    tournament_size: int = 5
    islands: int = 1
    hurdle_margin: typing.Optional[float] = None
    mutation: MutationSettings = field(default_factory=MutationSettings)
    restart: RestartSettings = field(default_factory=RestartSettings)
    migration: MigrationSettings = field(default_factory=MigrationSettings)
    evaluator: EvaluatorSettings = field(default_factory=EvaluatorSettings)
    workers: WorkerSettings = field(default_factory=WorkerSettings)
    meta_validation: MetaValidationSettings = field(default_factory=MetaValidationSettings)
    stop: StopSettings = field(default_factory=StopSettings)
    ray: RaySettings = field(default_factory=RaySettings)
    checkpoint_every_s: float = 15.0
    show_top: int = 3


# Value checks per dotted key: (predicate, what the value must be).
_CHECKS = {
    "population_size": (lambda v: v >= 2, "an integer >= 2"),
    "tournament_size": (lambda v: v >= 1, "an integer >= 1"),
    "islands": (lambda v: v >= 1, "an integer >= 1"),
    "hurdle_margin": (lambda v: v is None or v >= 0, "a number >= 0 or null"),
    "mutation.insert": (lambda v: v >= 0, ">= 0"),
    "mutation.delete": (lambda v: v >= 0, ">= 0"),
    "mutation.modify": (lambda v: v >= 0, ">= 0"),
    "mutation.max_length": (lambda v: v >= 1, "an integer >= 1"),
    "mutation.constant_prob": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "restart.plateau": (lambda v: v >= 0, "an integer >= 0"),
    "migration.every": (lambda v: v >= 0, "an integer >= 0 (0: never)"),
    "evaluator.seeds": (lambda v: len(v) >= 1, "a non-empty list of integers"),
    "evaluator.batch_size": (lambda v: v >= 1, "an integer >= 1"),
    "evaluator.max_length": (lambda v: v >= 1, "an integer >= 1"),
    # The Ray search places actors on CPU cores or GPUs (`evaluate --device tpu` is local).
    "evaluator.device": (lambda v: v in (None, "cpu", "gpu"), "cpu, gpu or null"),
    "evaluator.program_axis": (lambda v: v in (None, "map", "vmap"), "map, vmap or null"),
    "workers.actors": (lambda v: v is None or v >= 1, "an integer >= 1 or null"),
    # An evaluator uses one device: 0.5 puts two actors on each GPU.
    "workers.gpus_per_actor": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "workers.inflight": (lambda v: v >= 1, "an integer >= 1"),
    "meta_validation.every": (lambda v: v >= 0, "an integer >= 0 (0: never)"),
    "meta_validation.top_k": (lambda v: v >= 1, "an integer >= 1"),
    "stop.max_programs": (lambda v: v is None or v >= 1, "an integer >= 1 or null"),
    "stop.max_evaluations": (lambda v: v is None or v >= 1, "an integer >= 1 or null"),
    "stop.time_limit_s": (lambda v: v is None or v > 0, "a number > 0 or null"),
    "evaluator.step_size": (lambda v: v in ("tuned", "fixed"), "tuned or fixed"),
    "evaluator.tune_seeds": (lambda v: v >= 1, "an integer >= 1"),
    "evaluator.hurdle_probes": (lambda v: len(v) >= 1 and set(v) <= set(FIRST_PROBE_MULTIPLES),
                                "a non-empty list of 0.25, 1 and 4"),
    "checkpoint_every_s": (lambda v: v > 0, "a number > 0"),
    "show_top": (lambda v: v >= 0, "an integer >= 0"),
}


def _coerce(value, annotation, where: str):
    """``value`` as the annotated type, or a ConfigError naming ``where``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: must be a list")
        return tuple(_coerce(v, args[0], where) for v in value)
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: must be true or false, not {value!r}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: must be an integer, not {value!r}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: must be a number, not {value!r}")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: must be a string, not {value!r}")
        return value
    raise TypeError(annotation)


def _build(cls, data, source: str, prefix: str = ""):
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {prefix.rstrip('.') or 'the config'} must be a mapping")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in fields:
            raise ConfigError(f"{source}: unknown key '{dotted}' "
                              f"(allowed: {', '.join(sorted(fields))})")
        annotation = hints[key]
        if dataclasses.is_dataclass(annotation):
            values[key] = _build(annotation, value, source, f"{dotted}.")
            continue
        values[key] = _coerce(value, annotation, f"{source}: {dotted}")
        check = _CHECKS.get(dotted)
        if check and not check[0](values[key]):
            raise ConfigError(f"{source}: {dotted} must be {check[1]}, not {value!r}")
    return cls(**values)


def config_to_dict(config: SearchConfig) -> dict:
    """The config as plain data (tuples as lists), ready for YAML or JSON."""
    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value
    return plain(dataclasses.asdict(config))


# What a run made before a config key existed ran with (so it resumes as it ran).
KEYS_BEFORE_THEY_EXISTED = {"evaluator": {"step_size": "fixed", "tune_seeds": 1,
                                          "sign_flips": False, "schedule_input": True,
                                          "scale_gradients": False,
                                          "hurdle_probes": [1.0], "confirm_seeds": []},
                            "migration": {"every": 0}}


def as_it_ran(stored: dict) -> dict:
    """A stored config (``config_to_dict``'s form) with every key that did not exist when
    it was stored set to what the run ran with, so that it compares with today's configs.

    Example:
        >>> as_it_ran({"islands": 1})["migration"]
        {'every': 0}
    """
    stored = dict(stored)
    for section, defaults in KEYS_BEFORE_THEY_EXISTED.items():
        if isinstance(stored.get(section, {}), dict):
            stored[section] = {**defaults, **stored.get(section, {})}
    return stored


def load_config_text(text: str, source: str = "<config>",
                     overrides: typing.Sequence[str] = ()) -> SearchConfig:
    """Parse YAML text into a validated config, then apply ``key=value`` overrides."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError(f"{where}: not valid YAML: {getattr(err, 'problem', err)}") from None
    data = data or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the config must be a mapping of keys to values")
    for override in overrides:
        _apply_override(data, override)
    config = _build(SearchConfig, data, source)
    _check_together(config, source)
    return config


def _check_together(config: SearchConfig, source: str) -> None:
    """Checks that span keys: the suites exist, every child fits the evaluator."""
    from evaluators.evaluator_config import held_out_seeds_are_fresh
    from evaluators.suite import resolve_suite

    for key, suite in (("evaluator.suite", config.evaluator.suite),
                       ("meta_validation.suite", config.meta_validation.suite)):
        try:
            resolve_suite(suite)
        except ValueError as err:
            raise ConfigError(f"{source}: {key}: {err}") from None
    evaluator = config.evaluator
    if not held_out_seeds_are_fresh(evaluator.seeds, evaluator.confirm_seeds):
        raise ConfigError(f"{source}: evaluator.confirm_seeds must be distinct and not among "
                          f"evaluator.seeds {list(evaluator.seeds)}, not "
                          f"{list(evaluator.confirm_seeds)}")
    if config.evaluator.max_length < config.mutation.max_length:
        raise ConfigError(
            f"{source}: evaluator.max_length ({config.evaluator.max_length}) must be >= "
            f"mutation.max_length ({config.mutation.max_length}), or children would not fit")


def _apply_override(data: dict, override: str) -> None:
    if "=" not in override:
        raise ConfigError(f"--set {override}: expected key=value")
    key, raw = override.split("=", 1)
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        raise ConfigError(f"--set {override}: the value is not valid YAML") from None
    node = data
    parts = key.strip().split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"--set {override}: '{part}' is not a section")
        node = child
    node[parts[-1]] = value


def load_config(path: str | Path, overrides: typing.Sequence[str] = ()) -> SearchConfig:
    """Load and validate the YAML config at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the config: {err}") from None
    return load_config_text(text, str(path), overrides)
