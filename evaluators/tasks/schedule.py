"""The learning-rate schedule every proxy task uses: linear warmup, then cosine decay.

The value is a unitless multiplier in ``[0, 1]``. An optimizer program receives it as
``lr`` and applies its own absolute scale (the paper's AdamW program multiplies it by
``0.001``).

Example:
    >>> import jax.numpy as jnp
    >>> [round(float(warmup_cosine(s, steps=10, warmup=2)), 3) for s in range(10)]
    [0.5, 1.0, 1.0, 0.962, 0.854, 0.691, 0.5, 0.309, 0.146, 0.038]
"""

import jax.numpy as jnp


def warmup_cosine(step, steps: int, warmup: int):
    """Schedule value at ``step`` (0-based; may be a traced integer).

    Warmup: ``(step + 1) / warmup`` for ``step < warmup``, so the first step already
    moves and the last warmup step reaches 1. Then cosine decay from 1 towards 0 over
    the remaining ``steps - warmup`` steps (the last step's value is small but not 0).

    Args:
        step: the step index, ``0 <= step < steps``.
        steps: total number of training steps.
        warmup: number of warmup steps, ``0 <= warmup < steps``.

    Returns:
        A float32 scalar in ``[0, 1]``.
    """
    step = jnp.asarray(step, jnp.float32)
    ramp = (step + 1.0) / max(warmup, 1)
    progress = (step - warmup) / max(steps - warmup, 1)
    cosine = 0.5 * (1.0 + jnp.cos(jnp.pi * jnp.clip(progress, 0.0, 1.0)))
    value = jnp.where(step < warmup, ramp, cosine)
    return jnp.clip(value, 0.0, 1.0).astype(jnp.float32)
