"""Train a small MLP with Lion and with AdamW, side by side, and print both losses.

The data is a synthetic regression problem made here (nothing is downloaded): inputs
drawn from a Gaussian, targets from a fixed random "teacher" MLP plus noise. Both
optimizers start from the same initialization and see the same minibatches.

Following the paper's guidance, Lion's learning rate is 3x smaller than AdamW's and
its weight decay 3x larger, so that lr * weight_decay is the same for both.

Run: ``python examples/lion_vs_adamw.py [--steps 1000]``
"""

from __future__ import annotations

import argparse
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax

try:
    from lion import lion
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from lion import lion

IN, HIDDEN, OUT = 16, 64, 4


def init_mlp(rng: np.random.Generator, sizes=(IN, HIDDEN, HIDDEN, OUT)):
    return [{"w": jnp.asarray(rng.standard_normal((a, b), np.float32) / np.sqrt(a)),
             "b": jnp.zeros(b)}
            for a, b in zip(sizes[:-1], sizes[1:])]


def mlp(params, x):
    for layer in params[:-1]:
        x = jax.nn.gelu(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


def make_data(rng: np.random.Generator, n: int):
    """Synthetic regression data from a random teacher network."""
    teacher = init_mlp(rng, (IN, 32, OUT))
    x = jnp.asarray(rng.standard_normal((n, IN), np.float32))
    noise = jnp.asarray(rng.standard_normal((n, OUT), np.float32))
    return x, jax.jit(mlp)(teacher, x) + 0.05 * noise


def loss_fn(params, x, y):
    return jnp.mean((mlp(params, x) - y) ** 2)


def train(tx, params, x, y, steps, batch_size, key):
    """Minibatch training; returns the full-data loss after every step."""

    def step(carry, k):
        params, state = carry
        idx = jax.random.randint(k, (batch_size,), 0, x.shape[0])
        grads = jax.grad(loss_fn)(params, x[idx], y[idx])
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        return (params, state), loss_fn(params, x, y)

    (params, _), losses = jax.lax.scan(step, (params, tx.init(params)),
                                       jax.random.split(key, steps))
    return params, losses


def main(steps: int = 1000, batch_size: int = 128, log_every: int = 100, seed: int = 0) -> dict:
    """Trains both optimizers and prints their losses; returns ``{name: losses}``."""
    rng = np.random.default_rng(seed)
    x, y = make_data(rng, 4096)
    params = init_mlp(rng)
    batches = jax.random.key(seed)
    schedule = lambda peak: optax.warmup_cosine_decay_schedule(
        0.0, peak, warmup_steps=max(1, steps // 20), decay_steps=steps)
    optimizers = {
        "lion": lion(schedule(1e-3), b1=0.9, b2=0.99, weight_decay=0.3),
        "adamw": optax.adamw(schedule(3e-3), b1=0.9, b2=0.999, weight_decay=0.1),
    }
    losses = {}
    for name, tx in optimizers.items():
        _, curve = jax.jit(lambda p, tx=tx: train(tx, p, x, y, steps, batch_size, batches))(params)
        losses[name] = np.asarray(curve)

    initial = float(loss_fn(params, x, y))
    print(f"{'step':>6} {'lion':>10} {'adamw':>10}")
    print(f"{0:>6} {initial:>10.5f} {initial:>10.5f}")
    for t in range(log_every - 1, steps, log_every):
        print(f"{t + 1:>6} {losses['lion'][t]:>10.5f} {losses['adamw'][t]:>10.5f}")
    return {name: np.concatenate([[initial], curve]) for name, curve in losses.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.steps, args.batch_size, args.log_every, args.seed)
