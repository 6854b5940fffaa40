"""Benchmark: Lion's update step and optimizer state against optax.lion and AdamW.

Times one jitted training-step update (optimizer ``update`` plus
``optax.apply_updates``, params and state donated, the same for every contender)
on a ~10M-parameter pytree of transformer-like layer shapes, and counts the bytes
of each optimizer's state. The contenders are run in alternation, round after
round, in a rotating order, so that drifts of the machine (frequency, other load)
hit them alike; the figures are medians over rounds, and the ratios are the
medians of the per-round ratios.

Run ``python benchmarks/lion_step.py`` (human-readable JSON) or with ``--json``
(one line). :func:`run_benchmark` returns the same dict for other callers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

try:
    from lion import lion as lion_lion
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from lion import lion as lion_lion

# Hyperparameters are typical and shared; they do not change the cost.
LEARNING_RATE = 1e-4
WEIGHT_DECAY = 0.1


def make_params(d_model: int = 512, ff: int = 2048, vocab: int = 8000, seed: int = 0,
                dtype=jnp.float32) -> dict:
    """A pytree of transformer-like layer shapes: an embedding and two blocks.

    The defaults give 10.4M parameters.
    """
    d = d_model
    shapes = {"embed": (vocab, d), "final_norm": (d,)}
    for i in range(2):
        shapes.update({
            f"block{i}/attn_norm": (d,),
            f"block{i}/qkv": (d, 3 * d),
            f"block{i}/attn_out": (d, d),
            f"block{i}/mlp_norm": (d,),
            f"block{i}/mlp_in": (d, ff),
            f"block{i}/mlp_in_bias": (ff,),
            f"block{i}/mlp_out": (ff, d),
            f"block{i}/mlp_out_bias": (d,),
        })
    rng = np.random.default_rng(seed)
    return {name: jnp.asarray(0.02 * rng.standard_normal(shape, np.float32), dtype)
            for name, shape in sorted(shapes.items())}


def contenders(mu_dtype=None) -> dict[str, optax.GradientTransformation]:
    suffix = "" if mu_dtype is None else f"[mu={jnp.dtype(mu_dtype).name}]"
    return {
        "lion.lion" + suffix: lion_lion(LEARNING_RATE, weight_decay=WEIGHT_DECAY,
                                        mu_dtype=mu_dtype),
        "optax.lion" + suffix: optax.lion(LEARNING_RATE, weight_decay=WEIGHT_DECAY,
                                          mu_dtype=mu_dtype),
        "optax.adamw" + suffix: optax.adamw(LEARNING_RATE * 3, weight_decay=WEIGHT_DECAY / 3,
                                            mu_dtype=mu_dtype),
    }


def tree_bytes(tree) -> int:
    return int(sum(np.dtype(x.dtype).itemsize * x.size for x in jax.tree.leaves(tree)))


def make_step(tx: optax.GradientTransformation, donate: bool) -> Callable:
    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    return jax.jit(step, donate_argnums=(0, 1) if donate else ())


def cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "optax": optax.__version__,
        "jax_backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
    }


def run_benchmark(rounds: int = 30, steps_per_round: int = 5, donate: bool = True,
                  time_bf16_momentum: bool = True, d_model: int = 512, ff: int = 2048,
                  vocab: int = 8000, seed: int = 0) -> dict:
    """Measures step time and state bytes; returns a JSON-able dict.

    Args:
        rounds: rounds of alternation; each round times every contender once.
        steps_per_round: steps timed back to back per contender and round.
        donate: donate params and state to the jitted step (for all contenders).
        time_bf16_momentum: also time the three optimizers with bfloat16
            momentum (``mu_dtype``); their state bytes are always reported.
        d_model, ff, vocab: layer sizes (the defaults give 10.4M parameters).
        seed: seed of the parameters and gradients.

    Returns:
        A dict with ``machine``, ``n_params``, ``step_time_s`` (median per
        contender), ``step_time_ratio`` (medians of per-round ratios),
        ``state_bytes`` and ``state_bytes_ratio``.
    """
    params = make_params(d_model, ff, vocab, seed)
    grads = jax.tree.map(lambda p: 0.01 * p, make_params(d_model, ff, vocab, seed + 1))
    n_params = int(sum(p.size for p in jax.tree.leaves(params)))
    f32, bf16 = contenders(), contenders(jnp.bfloat16)
    timed = {**f32, **bf16} if time_bf16_momentum else dict(f32)

    runs = {}
    for name, tx in timed.items():
        step = make_step(tx, donate)
        p = jax.tree.map(jnp.copy, params)
        s = tx.init(p)
        for _ in range(3):  # compile and warm up
            p, s = step(p, s, grads)
        jax.block_until_ready((p, s))
        runs[name] = [step, p, s]

    names = list(timed)
    times = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            step, p, s = runs[name]
            start = time.perf_counter()
            for _ in range(steps_per_round):
                p, s = step(p, s, grads)
            jax.block_until_ready((p, s))
            times[name].append((time.perf_counter() - start) / steps_per_round)
            runs[name][1:] = [p, s]

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(times[a], times[b]))

    ratios = {
        "lion.lion / optax.lion": ratio("lion.lion", "optax.lion"),
        "lion.lion / optax.adamw": ratio("lion.lion", "optax.adamw"),
        "optax.lion / optax.adamw": ratio("optax.lion", "optax.adamw"),
    }
    if time_bf16_momentum:
        ratios.update({
            "lion.lion[mu=bfloat16] / optax.lion[mu=bfloat16]":
                ratio("lion.lion[mu=bfloat16]", "optax.lion[mu=bfloat16]"),
            "lion.lion[mu=bfloat16] / optax.adamw":
                ratio("lion.lion[mu=bfloat16]", "optax.adamw"),
            "lion.lion[mu=bfloat16] / optax.adamw[mu=bfloat16]":
                ratio("lion.lion[mu=bfloat16]", "optax.adamw[mu=bfloat16]"),
        })
    state_bytes = {name: tree_bytes(jax.eval_shape(tx.init, params))
                   for name, tx in {**f32, **bf16}.items()}
    adamw = state_bytes["optax.adamw"]
    return {
        "machine": machine(),
        "n_params": n_params,
        "param_bytes": tree_bytes(params),
        "rounds": rounds,
        "steps_per_round": steps_per_round,
        "donate": donate,
        "step_time_s": {n: statistics.median(t) for n, t in times.items()},
        "step_time_s_min": {n: min(t) for n, t in times.items()},
        "step_time_ratio": ratios,
        "state_bytes": state_bytes,
        "state_bytes_ratio": {
            "lion.lion / optax.adamw": state_bytes["lion.lion"] / adamw,
            "lion.lion[mu=bfloat16] / optax.adamw":
                state_bytes["lion.lion[mu=bfloat16]"] / adamw,
        },
        "targets": {
            "lion.lion / optax.lion step time": "<= 1.0",
            "lion.lion / optax.adamw step time": "<= 0.8",
            "lion.lion / optax.adamw state bytes": "0.5",
            "lion.lion[mu=bfloat16] / optax.adamw state bytes": "0.25",
        },
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one line of JSON")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--steps-per-round", type=int, default=5)
    parser.add_argument("--d-model", type=int, default=512)
    parser.add_argument("--ff", type=int, default=2048)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--no-donate", action="store_true")
    parser.add_argument("--no-bf16-timing", action="store_true",
                        help="do not time the bfloat16-momentum variants")
    args = parser.parse_args(argv)
    result = run_benchmark(rounds=args.rounds, steps_per_round=args.steps_per_round,
                           donate=not args.no_donate,
                           time_bf16_momentum=not args.no_bf16_timing, d_model=args.d_model, ff=args.ff,
                           vocab=args.vocab)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
