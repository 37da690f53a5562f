#!/usr/bin/env python3
"""The JAX side of the benchmarks (run by compare.py in its own process, so the XLA thread
settings apply before JAX starts). Prints one JSON line per workload: median milliseconds of a
jit-compiled training step (forward, backward, Adam) and of a jit-compiled Adam step on 16M
parameters, with buffers donated so the update is in place."""
import json
import os
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402


def median_ms(fn, repeats, warmup=3):
    for _ in range(warmup):
        jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append((time.perf_counter() - t0) * 1e3)
    return sorted(times)[len(times) // 2]


def adam(params, grads, m, v, t, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
    v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
    step = lr / (1 - b1 ** t)
    root = jnp.sqrt(1 - b2 ** t)
    params = jax.tree.map(lambda p, m, v: p - step * m / (jnp.sqrt(v) / root + eps), params, m, v)
    return params, m, v


def mlp_step(sizes, batch, repeats):
    key = jax.random.PRNGKey(1)
    params = []
    for i in range(len(sizes) - 1):
        key, k1, k2 = jax.random.split(key, 3)
        bound = 1 / sizes[i] ** 0.5
        params.append((jax.random.uniform(k1, (sizes[i], sizes[i + 1]), minval=-bound, maxval=bound),
                       jax.random.uniform(k2, (sizes[i + 1],), minval=-bound, maxval=bound)))
    key, kx, ky = jax.random.split(key, 3)
    x = jax.random.normal(kx, (batch, sizes[0]))
    y = jax.random.randint(ky, (batch,), 0, sizes[-1])

    def loss(params):
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(h), y[:, None], axis=1))

    @jax.jit
    def step(params, m, v, t):
        grads = jax.grad(loss)(params)
        return adam(params, grads, m, v, t)

    state = [params, jax.tree.map(jnp.zeros_like, params), jax.tree.map(jnp.zeros_like, params), 0]

    def run():
        state[3] += 1
        state[0], state[1], state[2] = step(state[0], state[1], state[2], state[3])
        return state[0]
    return median_ms(run, repeats)


def adam_16m():
    n = 16 * 1024 * 1024
    step = jax.jit(lambda p, g, m, v, t: adam(p, g, m, v, t), donate_argnums=(0, 2, 3))
    state = [jnp.full((n,), 0.5), jnp.full((n,), 0.01), jnp.zeros((n,)), jnp.zeros((n,)), 0]

    def run():
        state[4] += 1
        state[0], state[2], state[3] = step(state[0], state[1], state[2], state[3], state[4])
        return state[0]
    return median_ms(run, 10)


if __name__ == "__main__":
    for name, ms in [("mlp_784_1024_1024_10_b256", mlp_step([784, 1024, 1024, 10], 256, 20)),
                     ("mlp_64_256_256_10_b128", mlp_step([64, 256, 256, 10], 128, 200)),
                     ("adam_16m", adam_16m())]:
        print(json.dumps({"workload": name, "ms": ms, "jax": jax.__version__}), flush=True)
