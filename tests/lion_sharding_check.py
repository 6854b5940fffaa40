"""Lion with params sharded over two CPU devices; run by tests/test_lion_optax.py.

The XLA flag that makes two host devices must be set before jax is imported and must
not leak into the other tests, hence a separate process. Prints SHARDING-OK.
"""

import os

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from jax.sharding import AxisType, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

from lion import lion  # noqa: E402
from lion_helpers import counted_jit  # noqa: E402

HOST = {"w": np.arange(64.0, dtype=np.float32).reshape(16, 4) / 64, "b": np.ones(4, np.float32)}
GRADS = {"w": np.cos(HOST["w"] * 7), "b": np.sin(np.arange(4.0, dtype=np.float32))}


def make_step(tx):
    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    return step


def assert_sharded_like(tree, shardings):
    for name, x in tree.items():
        assert x.sharding.is_equivalent_to(shardings[name], x.ndim), (name, x.sharding)
        assert len(x.addressable_shards) == 2


def main():
    assert len(jax.devices()) == 2, jax.devices()
    for mu_dtype in (None, jnp.bfloat16):
        tx = lion(0.1, weight_decay=0.2, mu_dtype=mu_dtype)
        ref_p, ref_s = HOST, tx.init(HOST)
        for _ in range(3):
            ref_p, ref_s = jax.jit(make_step(tx))(ref_p, ref_s, GRADS)
        for axis_type in (AxisType.Auto, AxisType.Explicit):
            mesh = jax.make_mesh((2,), ("x",), axis_types=(axis_type,))
            # The spellings jax gives outputs in each mode: P("x") and P("x", None) are
            # equivalent, but jit (for any optimizer, even sgd) compiles again when the
            # outputs are spelled differently from the inputs.
            specs = ({"w": P("x"), "b": P()} if axis_type == AxisType.Auto
                     else {"w": P("x", None), "b": P(None)})
            with jax.set_mesh(mesh):
                shardings = {k: NamedSharding(mesh, v) for k, v in specs.items()}
                params = jax.device_put(HOST, shardings)  # fresh buffers: donated below
                grads = jax.device_put(GRADS, shardings)
                state = tx.init(params)
                assert_sharded_like(state.mu, shardings)
                step, traces = counted_jit(make_step(tx), donate_argnums=(0, 1))
                for _ in range(3):
                    params, state = step(params, state, grads)
                assert len(traces) == 1
                assert_sharded_like(state.mu, shardings)
                assert_sharded_like(params, shardings)
                assert state.mu["w"].addressable_shards[0].data.shape == (8, 4)
                for name in HOST:
                    np.testing.assert_allclose(params[name], ref_p[name], rtol=1e-6)
                    np.testing.assert_allclose(np.asarray(state.mu[name], np.float32),
                                               np.asarray(ref_s.mu[name], np.float32),
                                               rtol=1e-6)
    print("SHARDING-OK")


if __name__ == "__main__":
    main()
