"""MLP on synthetic teacher data: the cheap smoke task.

A fixed random "teacher" MLP labels Gaussian inputs; labels are *sampled* from the
teacher's softmax at a temperature, so even the teacher's loss is above zero and a
student can overfit the finite training pool. The student is a ReLU MLP trained with
cross-entropy.

Example:
    >>> import jax
    >>> task = build(SIZES["proxy"], "proxy")
    >>> params = task.init(jax.random.PRNGKey(0))
    >>> x, y = task.batch(jax.random.PRNGKey(1), 3)
    >>> x.shape == (task.batch_size, 32), y.shape == (task.batch_size,)
    (True, True)
"""

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from evaluators.tasks.classification import classification_task
from evaluators.tasks.task import ProxyTask
from evaluators.tasks.transformer import dense, init_dense


@dataclass(frozen=True)
class MLPConfig:
    """Settings of the MLP teacher task (data, student, training)."""

    inputs: int = 32
    classes: int = 10
    teacher_hidden: int = 64
    temperature: float = 0.5     # label noise: lower is cleaner
    train_size: int = 4096
    val_size: int = 2048
    hidden: int = 64
    depth: int = 2
    steps: int = 200
    batch_size: int = 32
    warmup: int = 20
    param_scale: float = 2.0     # see reparam.py: stored weights are w / param_scale
    data_seed: int = 0


SIZES = {
    "proxy": MLPConfig(),
    "meta10": MLPConfig(hidden=128, train_size=16384, steps=400, batch_size=128, warmup=40,
                        param_scale=4.0),
    "meta100": MLPConfig(hidden=256, depth=3, train_size=65536, steps=800, batch_size=128,
                         warmup=80, param_scale=4.0),
}


def make_data(c: MLPConfig):
    """Teacher-labelled train and validation sets, as numpy arrays (deterministic)."""
    rng = np.random.default_rng(c.data_seed)
    w1 = rng.normal(size=(c.inputs, c.teacher_hidden)) / np.sqrt(c.inputs)
    w2 = rng.normal(size=(c.teacher_hidden, c.classes)) * 3.0 / np.sqrt(c.teacher_hidden)
    x = rng.normal(size=(c.train_size + c.val_size, c.inputs)).astype(np.float32)
    logits = np.tanh(x @ w1) @ w2 / c.temperature
    gumbel = rng.gumbel(size=logits.shape)
    y = np.argmax(logits + gumbel, axis=-1).astype(np.int32)
    n = c.train_size
    return (x[:n], y[:n]), (x[n:], y[n:])


def build(c: MLPConfig, size: str) -> ProxyTask:
    """Build the task for config ``c``; data arrays are captured by the closures."""
    (x_train, y_train), (x_val, y_val) = [
        (jnp.asarray(x), jnp.asarray(y)) for x, y in make_data(c)]

    init = relu_mlp_init([c.inputs] + [c.hidden] * c.depth + [c.classes])
    return classification_task("mlp", size, c, init, relu_mlp_logits, (x_train, y_train),
                               (x_val, y_val))


def relu_mlp_init(widths):
    """``init(key) -> params`` of a ReLU MLP with layer ``widths`` (inputs first)."""
    def init(key):
        keys = jax.random.split(key, len(widths) - 1)
        return [init_dense(k, a, b) for k, a, b in zip(keys, widths[:-1], widths[1:])]
    return init


def relu_mlp_logits(params, x):
    """The logits of a ReLU MLP made by :func:`relu_mlp_init`."""
    for layer in params[:-1]:
        x = jax.nn.relu(dense(layer, x))
    return dense(params[-1], x)
