"""A character-level transformer language model over the standard library's source.

Training windows are drawn at random offsets in the training text; validation is a
fixed set of evenly spaced windows of the held-out files (see ``stdlib_text``). The
model is token embedding + learned positions + causal pre-LN transformer blocks + an
untied output layer; the loss is next-byte cross-entropy in nats, averaged over
positions.

Example:
    >>> import jax
    >>> task = build(SIZES["proxy"], "proxy")
    >>> tokens = task.batch(jax.random.PRNGKey(0), 0)
    >>> tokens.shape == (task.batch_size, task.config.seq + 1)
    True
"""

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from evaluators.tasks.stdlib_text import VOCAB, load_corpus
from evaluators.tasks.reparam import with_param_scale
from evaluators.tasks.task import ProxyTask
from evaluators.tasks.transformer import (apply_blocks, dense, init_blocks, init_dense,
                                          init_layer_norm, layer_norm)


@dataclass(frozen=True)
class CharLMConfig:
    """Settings of the character LM task (data, model, training)."""

    seq: int = 16                # context length (the model predicts seq next bytes)
    train_bytes: int = 1_000_000
    val_bytes: int = 100_000
    val_windows: int = 256
    width: int = 16
    layers: int = 1
    heads: int = 2
    mlp_ratio: int = 4
    steps: int = 150
    batch_size: int = 16
    warmup: int = 15
    param_scale: float = 8.0     # see reparam.py: stored weights are w / param_scale


SIZES = {
    "proxy": CharLMConfig(),
    "meta10": CharLMConfig(seq=32, width=32, steps=200, batch_size=32, warmup=20,
                           param_scale=4.0),
    "meta100": CharLMConfig(seq=32, width=64, layers=2, heads=4, steps=300, batch_size=32,
                            warmup=30, train_bytes=3_000_000, val_bytes=300_000,
                            val_windows=512, param_scale=8.0),
}


def val_windows(val: np.ndarray, seq: int, count: int) -> np.ndarray:
    """``count`` evenly spaced windows of ``seq + 1`` bytes of the held-out text."""
    starts = np.linspace(0, len(val) - seq - 1, count).astype(np.int64)
    return np.stack([val[s:s + seq + 1] for s in starts]).astype(np.int32)


def build(c: CharLMConfig, size: str) -> ProxyTask:
    """Build the task for config ``c``; the text is captured by the closures."""
    train_np, val_np = load_corpus(c.train_bytes, c.val_bytes)
    train = jnp.asarray(train_np)
    val = jnp.asarray(val_windows(val_np, c.seq, c.val_windows))
    offsets = jnp.arange(c.seq + 1)

    def init(key):
        k_embed, k_pos, k_blocks, k_out = jax.random.split(key, 4)
        return {
            "embed": jax.random.normal(k_embed, (VOCAB, c.width), jnp.float32),
            "pos": 0.02 * jax.random.normal(k_pos, (c.seq, c.width), jnp.float32),
            "blocks": init_blocks(k_blocks, c.layers, c.width, c.mlp_ratio * c.width),
            "ln": init_layer_norm(c.width),
            "out": init_dense(k_out, c.width, VOCAB),
        }

    def cross_entropy(params, tokens):
        inputs, targets = tokens[:, :-1], tokens[:, 1:]
        x = params["embed"][inputs] + params["pos"]
        x = apply_blocks(params["blocks"], x, c.heads, causal=True)
        logp = jax.nn.log_softmax(dense(params["out"], layer_norm(params["ln"], x)))
        return -jnp.take_along_axis(logp, targets[..., None], axis=-1).mean()

    def batch(key, step):
        starts = jax.random.randint(jax.random.fold_in(key, step), (c.batch_size, 1), 0,
                                    len(train_np) - c.seq - 1)
        return train[starts + offsets].astype(jnp.int32)

    def val_loss(params):
        return cross_entropy(params, val)

    task = ProxyTask("charlm", size, c.steps, c.batch_size, c.warmup,
                     init, batch, cross_entropy, val_loss, config=c)
    return with_param_scale(task, c.param_scale)
