"""Pre-LayerNorm transformer layers shared by the ViT and the character LM tasks.

Parameters are nested dicts of float32 arrays; activations are ``[batch, tokens, width]``.

Example:
    >>> import jax, jax.numpy as jnp
    >>> p = init_blocks(jax.random.PRNGKey(0), layers=2, width=8, mlp_width=16)
    >>> apply_blocks(p, jnp.ones((3, 5, 8)), heads=2, causal=True).shape
    (3, 5, 8)
"""

import jax
import jax.numpy as jnp


def init_dense(key, fan_in: int, fan_out: int, scale: float = 1.0) -> dict:
    """A dense layer ``x @ w + b`` with ``w ~ N(0, scale^2 / fan_in)`` and ``b = 0``."""
    w = jax.random.normal(key, (fan_in, fan_out), jnp.float32) * (scale / fan_in ** 0.5)
    return {"w": w, "b": jnp.zeros((fan_out,), jnp.float32)}


def dense(p: dict, x):
    """Apply a dense layer to the last axis of ``x``."""
    return x @ p["w"] + p["b"]


def init_layer_norm(width: int) -> dict:
    """LayerNorm with unit scale and zero bias."""
    return {"scale": jnp.ones((width,), jnp.float32), "bias": jnp.zeros((width,), jnp.float32)}


def layer_norm(p: dict, x, eps: float = 1e-5):
    """Normalise the last axis of ``x`` and apply the learned scale and bias."""
    mean = x.mean(-1, keepdims=True)
    var = jnp.square(x - mean).mean(-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + eps) * p["scale"] + p["bias"]


def attention(p: dict, x, heads: int, causal: bool):
    """Multi-head self-attention over the token axis of ``x`` (``[B, T, W]``)."""
    b, t, w = x.shape
    qkv = dense(p["qkv"], x).reshape(b, t, 3, heads, w // heads)
    q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
    scores = jnp.einsum("bthd,bshd->bhts", q, k) / jnp.sqrt(jnp.float32(w // heads))
    if causal:
        mask = jnp.tril(jnp.ones((t, t), bool))
        scores = jnp.where(mask, scores, jnp.float32(-1e9))
    probs = jax.nn.softmax(scores, axis=-1)
    out = jnp.einsum("bhts,bshd->bthd", probs, v).reshape(b, t, w)
    return dense(p["proj"], out)


def init_block(key, width: int, mlp_width: int) -> dict:
    """One transformer block: attention and a GELU MLP, each behind a LayerNorm."""
    k_qkv, k_proj, k_fc1, k_fc2 = jax.random.split(key, 4)
    return {
        "ln1": init_layer_norm(width),
        "qkv": init_dense(k_qkv, width, 3 * width),
        "proj": init_dense(k_proj, width, width),
        "ln2": init_layer_norm(width),
        "fc1": init_dense(k_fc1, width, mlp_width),
        "fc2": init_dense(k_fc2, mlp_width, width),
    }


def block(p: dict, x, heads: int, causal: bool):
    """Apply one pre-LN residual block to ``x`` (``[B, T, W]``)."""
    x = x + attention(p, layer_norm(p["ln1"], x), heads, causal)
    hidden = jax.nn.gelu(dense(p["fc1"], layer_norm(p["ln2"], x)))
    return x + dense(p["fc2"], hidden)


def init_blocks(key, layers: int, width: int, mlp_width: int) -> list:
    """A stack of ``layers`` blocks (a list, one dict per block)."""
    return [init_block(k, width, mlp_width) for k in jax.random.split(key, layers)]


def apply_blocks(blocks: list, x, heads: int, causal: bool):
    """Apply a stack of blocks in order."""
    for p in blocks:
        x = block(p, x, heads, causal)
    return x
