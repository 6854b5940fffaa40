"""A classification task from a model's logits and a labelled pool (mlp and vit share it).

Batches are drawn with replacement from the training pool (from ``fold_in(key, step)``);
the loss is the mean cross-entropy; the validation loss is over the whole held-out set.

Example:
    >>> import jax.numpy as jnp
    >>> from types import SimpleNamespace
    >>> c = SimpleNamespace(steps=10, batch_size=2, warmup=1, train_size=4, param_scale=1.0)
    >>> x, y = jnp.eye(4), jnp.arange(4) % 2
    >>> task = classification_task("toy", "proxy", c, lambda key: jnp.zeros((4, 2)),
    ...                            lambda w, x: x @ w, (x, y), (x, y))
    >>> round(float(task.val_loss(task.init(None))), 4)  # uniform over 2 classes: ln 2
    0.6931
"""

import jax
import jax.numpy as jnp

from evaluators.tasks.reparam import with_param_scale
from evaluators.tasks.task import ProxyTask


def classification_task(name, size, c, init, logits, train, val) -> ProxyTask:
    """The :class:`ProxyTask` training ``logits(params, x)`` on ``train = (x, y)``.

    ``c`` supplies ``steps``, ``batch_size``, ``warmup``, ``train_size`` and
    ``param_scale``; ``val = (x, y)`` is the held-out set.
    """
    (x_train, y_train), (x_val, y_val) = train, val

    def cross_entropy(params, x, y):
        logp = jax.nn.log_softmax(logits(params, x))
        return -jnp.take_along_axis(logp, y[:, None], axis=-1).mean()

    def batch(key, step):
        idx = jax.random.randint(jax.random.fold_in(key, step), (c.batch_size,), 0, c.train_size)
        return x_train[idx], y_train[idx]

    def loss(params, b):
        return cross_entropy(params, *b)

    def val_loss(params):
        return cross_entropy(params, x_val, y_val)

    task = ProxyTask(name, size, c.steps, c.batch_size, c.warmup,
                     init, batch, loss, val_loss, config=c)
    return with_param_scale(task, c.param_scale)
