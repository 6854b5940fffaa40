"""``ProxyTask``: one small JAX training problem, as the evaluators see it.

A task is a bundle of pure functions over pytrees plus a few integers. Everything it
needs (data arrays, model shape) is fixed when the task is built, so every function
here can be jitted, ``lax.scan``-ned over steps and ``vmap``-ped over seeds or over a
batch of optimizer programs.

Example:
    >>> import jax
    >>> from evaluators.tasks import get_task
    >>> task = get_task("mlp", size="proxy")
    >>> params = task.init(jax.random.PRNGKey(0))
    >>> batch = task.batch(jax.random.PRNGKey(1), 0)
    >>> bool(task.loss(params, batch) > 0), bool(task.val_loss(params) > 0)
    (True, True)
"""

from dataclasses import dataclass, field
from typing import Any, Callable

from evaluators.tasks.schedule import warmup_cosine


@dataclass(frozen=True, eq=False)
class ProxyTask:
    """A training problem: data, model, loss, step count, batch size and schedule.

    Tasks compare and hash by identity (``eq=False``), so one task object can be a
    static argument of ``jax.jit``; ``get_task`` returns the same object for the same
    arguments.

    Attributes:
        name: registry name, e.g. ``"vit"``.
        size: ``"proxy"``, ``"meta10"`` or ``"meta100"`` (about 1x, 10x, 100x the cost).
        steps: number of optimizer steps in one training run.
        batch_size: examples per step.
        warmup: warmup steps of the schedule.
        init: ``init(key) -> params``, a pytree of float32 arrays.
        batch: ``batch(key, step) -> batch``; ``key`` names the run's data stream and the
            batch is drawn from ``fold_in(key, step)``, so two optimizers trained with the
            same key see the same examples in the same order.
        loss: ``loss(params, batch) -> scalar`` (mean training loss of the batch).
        val_loss: ``val_loss(params) -> scalar`` on a fixed held-out set.
        config: the settings the task was built from (model sizes, data knobs).
    """

    name: str
    size: str
    steps: int
    batch_size: int
    warmup: int
    init: Callable[[Any], Any]
    batch: Callable[[Any, Any], Any]
    loss: Callable[[Any, Any], Any]
    val_loss: Callable[[Any], Any]
    config: Any = field(default=None, repr=False)

    def schedule(self, step):
        """Learning-rate multiplier at ``step``: warmup then cosine, in ``[0, 1]``."""
        return warmup_cosine(step, self.steps, self.warmup)

    def __repr__(self) -> str:
        return (f"ProxyTask({self.name!r}, size={self.size!r}, steps={self.steps}, "
                f"batch_size={self.batch_size})")
