"""A small vision transformer on synthetic images (the family where Lion gains most).

Each class owns a random smooth periodic texture (low-frequency Fourier noise). An
image is its class texture, circularly shifted by a random offset, scaled by a random
contrast, mixed with a weaker texture of another random class (a distractor), plus
pixel noise. ``noise`` and ``distractor`` set the difficulty. Images are cut into
square patches (tokens); the model is patch embedding + learned positions + pre-LN
transformer blocks + mean pooling + a linear head, trained with cross-entropy.

Example:
    >>> import jax
    >>> task = build(SIZES["proxy"], "proxy")
    >>> x, y = task.batch(jax.random.PRNGKey(0), 0)
    >>> x.shape == (task.batch_size, 16, 16), y.shape == (task.batch_size,)
    (True, True)
"""

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from evaluators.tasks.classification import classification_task
from evaluators.tasks.task import ProxyTask
from evaluators.tasks.transformer import (apply_blocks, dense, init_blocks, init_dense,
                                          init_layer_norm, layer_norm)


@dataclass(frozen=True)
class ViTConfig:
    """Settings of the ViT task (data, model, training)."""

    image: int = 16              # images are image x image pixels, one channel
    patch: int = 4               # tokens are patch x patch squares
    classes: int = 10
    max_freq: int = 3            # texture frequencies, in cycles per image
    noise: float = 0.3           # pixel noise std (textures have unit std)
    distractor: float = 0.3      # weight of another class's texture
    train_size: int = 4096
    val_size: int = 1024
    width: int = 16
    layers: int = 1
    heads: int = 2
    mlp_ratio: int = 2
    steps: int = 300             # 150 before suite v2 (docs/proxy-tasks.md, "Suite v2")
    batch_size: int = 32
    warmup: int = 30
    param_scale: float = 4.0     # see reparam.py: stored weights are w / param_scale
    data_seed: int = 0


SIZES = {
    "proxy": ViTConfig(),
    "meta10": ViTConfig(width=32, layers=2, steps=200, batch_size=64, warmup=20,
                        train_size=16384, param_scale=2.0),
    "meta100": ViTConfig(width=64, layers=2, heads=4, steps=400, batch_size=64, warmup=40,
                         train_size=32768, val_size=2048, param_scale=1.0),
}


# The same ViT, data and model trained twice as long on batches of 8 (registered as
# ``vit_b8``): noisier gradients, where a slow momentum pays (docs/proxy-tasks.md). Its
# proxy is in the GPU suite; the meta sizes scale the model as ``vit``'s do.
SMALL_BATCH_SIZES = {
    "proxy": ViTConfig(steps=600, warmup=60, batch_size=8),
    "meta10": ViTConfig(width=32, layers=2, steps=800, batch_size=16, warmup=80,
                        train_size=16384, param_scale=2.0),
    "meta100": ViTConfig(width=64, layers=2, heads=4, steps=1600, batch_size=16,
                         warmup=160, train_size=32768, val_size=2048, param_scale=1.0),
}


def textures(rng, count: int, size: int, max_freq: int) -> np.ndarray:
    """``count`` random periodic textures with unit std, shape ``[count, size, size]``."""
    f = np.fft.fftfreq(size) * size
    fy, fx = np.meshgrid(f, f, indexing="ij")
    mask = (np.hypot(fx, fy) <= max_freq) & ((fx != 0) | (fy != 0))
    spectrum = rng.normal(size=(count, size, size)) + 1j * rng.normal(size=(count, size, size))
    images = np.fft.ifft2(spectrum * mask).real
    return images / images.std(axis=(1, 2), keepdims=True)


def make_images(c: ViTConfig, protos: np.ndarray, rng, count: int):
    """``count`` labelled images drawn from the class textures ``protos``."""
    labels = rng.integers(0, c.classes, size=count)
    others = (labels + rng.integers(1, c.classes, size=count)) % c.classes
    shifts = rng.integers(0, c.image, size=(count, 2, 2))
    contrast = rng.uniform(0.6, 1.4, size=(count, 1, 1))
    images = np.empty((count, c.image, c.image))
    for i in range(count):
        main = np.roll(protos[labels[i]], tuple(shifts[i, 0]), axis=(0, 1))
        other = np.roll(protos[others[i]], tuple(shifts[i, 1]), axis=(0, 1))
        images[i] = contrast[i] * main + c.distractor * other
    images += c.noise * rng.normal(size=images.shape)
    return images.astype(np.float32), labels.astype(np.int32)


def make_data(c: ViTConfig):
    """Train and validation images and labels (numpy, deterministic from ``data_seed``)."""
    rng = np.random.default_rng(c.data_seed)
    protos = textures(rng, c.classes, c.image, c.max_freq)
    return make_images(c, protos, rng, c.train_size), make_images(c, protos, rng, c.val_size)


def patches(images, patch: int):
    """``[B, H, W]`` images to ``[B, tokens, patch * patch]`` patch vectors."""
    b, h, w = images.shape
    x = images.reshape(b, h // patch, patch, w // patch, patch)
    return x.transpose(0, 1, 3, 2, 4).reshape(b, (h // patch) * (w // patch), patch * patch)


def build(c: ViTConfig, size: str, name: str = "vit") -> ProxyTask:
    """Build the task ``name`` for config ``c``; data arrays are captured by the closures."""
    (x_train, y_train), (x_val, y_val) = [
        (jnp.asarray(x), jnp.asarray(y)) for x, y in make_data(c)]
    tokens = (c.image // c.patch) ** 2

    def init(key):
        k_embed, k_pos, k_blocks, k_head = jax.random.split(key, 4)
        return {
            "embed": init_dense(k_embed, c.patch * c.patch, c.width),
            "pos": 0.02 * jax.random.normal(k_pos, (tokens, c.width), jnp.float32),
            "blocks": init_blocks(k_blocks, c.layers, c.width, c.mlp_ratio * c.width),
            "ln": init_layer_norm(c.width),
            "head": init_dense(k_head, c.width, c.classes),
        }

    def logits(params, images):
        x = dense(params["embed"], patches(images, c.patch)) + params["pos"]
        x = apply_blocks(params["blocks"], x, c.heads, causal=False)
        return dense(params["head"], layer_norm(params["ln"], x).mean(axis=1))

    return classification_task(name, size, c, init, logits, (x_train, y_train),
                               (x_val, y_val))
