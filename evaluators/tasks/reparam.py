"""Parameter multipliers: put the AdamW warm start's best learning rate near its 1e-3.

``with_param_scale(task, alpha)`` stores every parameter divided by ``alpha`` and
multiplies it back by ``alpha`` inside the loss. The model, its initial function and
its data are unchanged; only the coordinates the optimizer sees are rescaled:

* a scale-invariant optimizer (Adam, Lion, any ``sign``/``m / sqrt(v)`` update) with
  ``(lr, wd)`` on the scaled task moves the model exactly as ``(alpha * lr, wd / alpha)``
  would on the unscaled task (Adam's ``eps`` aside), so ``alpha`` divides its best lr;
* plain SGD sees gradients ``alpha`` times larger on weights ``alpha`` times smaller: its
  effective learning rate is ``alpha**2`` times larger.

Short CPU proxies train for a few hundred steps, where Adam-like updates want lr ~1e-2
to 1e-1 on unscaled weights. Each task's ``param_scale`` is chosen (docs/proxy-tasks.md)
so that the search's warm start, the paper's AdamW program with its constant 1e-3, sits
near its own best learning rate.

Example:
    >>> import jax
    >>> from evaluators.tasks import get_task
    >>> base = get_task("mlp", param_scale=1.0)
    >>> scaled = with_param_scale(base, 10.0)
    >>> key = jax.random.PRNGKey(0)
    >>> b = base.batch(key, 0)
    >>> bool(abs(scaled.loss(scaled.init(key), b) - base.loss(base.init(key), b)) < 1e-5)
    True
"""

import dataclasses

import jax

from evaluators.tasks.task import ProxyTask


def with_param_scale(task: ProxyTask, alpha: float) -> ProxyTask:
    """``task`` with parameters stored as ``w / alpha`` (``alpha == 1``: ``task`` itself)."""
    if alpha == 1.0:
        return task

    def scale(params, factor):
        return jax.tree.map(lambda p: p * factor, params)

    return dataclasses.replace(
        task,
        init=lambda key: scale(task.init(key), 1.0 / alpha),
        loss=lambda params, batch: task.loss(scale(params, alpha), batch),
        val_loss=lambda params: task.val_loss(scale(params, alpha)),
    )
