"""MNIST-1D: a small 1-D signal classification task, with data made locally.

The ``mnist1d`` package (Greydanus, 2020) draws each example from one of ten hand-made
1-D digit templates, padded, translated, scaled, sheared and corrupted by correlated and
i.i.d. noise, then resampled to ``length`` points; :func:`make_data` calls its
generator (``make_dataset``), never its download. The model is a ReLU MLP, as in the
package's own baselines, trained with cross-entropy.

Example:
    >>> import jax
    >>> task = build(SIZES["proxy"], "proxy")
    >>> x, y = task.batch(jax.random.PRNGKey(0), 0)
    >>> x.shape == (task.batch_size, 40), y.shape == (task.batch_size,)
    (True, True)
"""

from dataclasses import dataclass

import numpy as np

from evaluators.tasks.classification import classification_task
from evaluators.tasks.mlp import relu_mlp_init, relu_mlp_logits
from evaluators.tasks.task import ProxyTask


@dataclass(frozen=True)
class MNIST1DConfig:
    """Settings of the MNIST-1D task (data, model, training)."""

    samples: int = 5000          # train + validation examples
    train_split: float = 0.8
    length: int = 40             # points per signal (the package's default)
    corr_noise: float = 0.25     # the package's correlated-noise scale
    iid_noise: float = 0.02      # the package's i.i.d.-noise scale
    hidden: int = 64
    depth: int = 2
    steps: int = 600
    batch_size: int = 32
    warmup: int = 60
    param_scale: float = 2.0     # see reparam.py: stored weights are w / param_scale
    data_seed: int = 42          # the package's default seed

    @property
    def train_size(self) -> int:
        """Training examples: the generator makes ``samples // 10`` per class."""
        return int(self.samples // 10 * 10 * self.train_split)


SIZES = {
    "proxy": MNIST1DConfig(),
    "meta10": MNIST1DConfig(samples=10000, hidden=128, steps=1500, batch_size=64,
                            warmup=150),
    "meta100": MNIST1DConfig(samples=20000, hidden=256, depth=3, steps=4000, batch_size=128,
                             warmup=400),
}


def make_data(c: MNIST1DConfig):
    """Train and validation signals and labels (numpy; deterministic from ``data_seed``).

    The generator seeds numpy's and Python's global random state; both are put back.
    """
    import random

    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.train_split = c.samples, c.train_split
    args.final_seq_length, args.seed = c.length, c.data_seed
    args.corr_noise_scale, args.iid_noise_scale = c.corr_noise, c.iid_noise
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    return ((data["x"].astype(np.float32), data["y"].astype(np.int32)),
            (data["x_test"].astype(np.float32), data["y_test"].astype(np.int32)))


def build(c: MNIST1DConfig, size: str) -> ProxyTask:
    """Build the task for config ``c``; data arrays are captured by the closures."""
    import jax.numpy as jnp

    (x_train, y_train), (x_val, y_val) = [
        (jnp.asarray(x), jnp.asarray(y)) for x, y in make_data(c)]

    init = relu_mlp_init([c.length] + [c.hidden] * c.depth + [10])
    return classification_task("mnist1d", size, c, init, relu_mlp_logits,
                               (x_train, y_train), (x_val, y_val))
