#!/usr/bin/env python3
"""Side-by-side benchmarks: the same workloads in PyTorch (CPU, eager, one thread), in JAX (jit,
one thread; Benchmarks/jax_side.py in its own process) and in Gradus (`gradus-bench`, release
build), run in this one invocation, printed as Gradus/PyTorch and Gradus/JAX ratios.

    bash Benchmarks/run                     # sets up a venv with torch and jax, builds, runs this
    python Benchmarks/compare.py            # when gradus-bench is built and torch (and jax) import

Gradus runs twice: with the environment as set, and with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
unset for the benchmark alone (README, "Benchmarks"). Medians of repeated runs; nothing is asserted.
"""
import json
import os
import subprocess
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, ".build", "release", "gradus-bench")


def median_ms(fn, repeats, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return sorted(times)[len(times) // 2]


def mlp(sizes):
    """Linear layers with ReLU between them, seeded."""
    torch.manual_seed(1)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def mlp_step(sizes, batch, repeats):
    model = mlp(sizes)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=False)
    x = torch.randn(batch, sizes[0])
    y = torch.randint(0, sizes[-1], (batch,))

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return median_ms(step, repeats)


def adam_16m(fused):
    p = torch.nn.Parameter(torch.full((16 * 1024 * 1024,), 0.5))
    p.grad = torch.full_like(p, 0.01)
    opt = torch.optim.Adam([p], lr=1e-3, fused=fused, foreach=False if not fused else None)
    return median_ms(opt.step, 10)


def sgd_16m():
    p = torch.nn.Parameter(torch.full((16 * 1024 * 1024,), 0.5))
    p.grad = torch.full_like(p, 0.01)
    opt = torch.optim.SGD([p], lr=0.01, momentum=0.9, fused=True)
    return median_ms(opt.step, 10)


def per_op_us():
    a = torch.ones(1, requires_grad=True)
    b = torch.full((1,), 2.0)
    n = 20000

    def chain():
        y = a
        for _ in range(n):
            y = y * b
    return median_ms(chain, 5) * 1000 / n


# torch.optim counterparts of Gradus's element-wise optimizers, at the same settings as gradus-bench's
# table; each runs fused where torch has a fused CPU kernel, else foreach.
TORCH_ELEMENTWISE = {
    "sgd": (torch.optim.SGD, dict(lr=0.01, momentum=0.9)), "adam": (torch.optim.Adam, {}), "adamw": (torch.optim.AdamW, {}),
    "adamax": (torch.optim.Adamax, {}), "nadam": (torch.optim.NAdam, {}), "radam": (torch.optim.RAdam, {}),
    "adagrad": (torch.optim.Adagrad, {}), "rmsprop": (torch.optim.RMSprop, {}), "rprop": (torch.optim.Rprop, {}),
}


def torch_optimizer_16m(name):
    cls, kwargs = TORCH_ELEMENTWISE[name]
    for impl in ("fused", "foreach"):
        p = torch.nn.Parameter(torch.full((16 * 1024 * 1024,), 0.5))
        p.grad = torch.full_like(p, 0.01)
        try:
            opt = cls([p], **kwargs, **{impl: True})
            opt.step()
        except (RuntimeError, TypeError, ValueError):
            continue
        return median_ms(opt.step, 5), impl
    return None, "none"


def muon_f32_patch():
    """torch.optim.Muon's Newton–Schulz in float32 instead of bfloat16 (the same iteration)."""
    import torch.optim._muon as muon_module
    original = muon_module._zeropower_via_newtonschulz

    def f32(grad, ns_coefficients, ns_steps, eps):
        a, b, c = ns_coefficients
        x = grad.float()
        if grad.size(0) > grad.size(1):
            x = x.T
        x = x / x.norm().clamp(min=eps)
        for _ in range(ns_steps):
            gram = x @ x.T
            x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
        return x.T if grad.size(0) > grad.size(1) else x
    return muon_module, original, f32


def torch_muon(rows, cols, float32):
    p = torch.nn.Parameter(torch.randn(rows, cols) * 0.02)
    p.grad = torch.randn(rows, cols) * 0.01
    opt = torch.optim.Muon([p], lr=0.02)
    module, original, f32 = muon_f32_patch()
    if float32:
        module._zeropower_via_newtonschulz = f32
    try:
        # torch's bfloat16 matmuls are slow on CPUs without bf16 units: time it once.
        return median_ms(opt.step, 5) if float32 else median_ms(opt.step, 1, warmup=0)
    finally:
        module._zeropower_via_newtonschulz = original


def routed_mlp_step(sizes, batch, repeats):
    """The MLP step with Muon on the hidden matrices and AdamW on the rest (biases and the head)."""
    model = mlp(sizes)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    hidden = [m.weight for m in linears[:-1]]
    rest = [m.bias for m in linears] + [linears[-1].weight]
    muon, adamw = torch.optim.Muon(hidden, lr=0.02), torch.optim.AdamW(rest, lr=0.003, foreach=True)
    module, original, f32 = muon_f32_patch()   # float32 Newton–Schulz, as Gradus (bfloat16 is ~60x slower on CPU)
    module._zeropower_via_newtonschulz = f32
    x = torch.randn(batch, sizes[0])
    y = torch.randint(0, sizes[-1], (batch,))

    def step():
        muon.zero_grad()
        adamw.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        muon.step()
        adamw.step()
    try:
        return median_ms(step, repeats)
    finally:
        module._zeropower_via_newtonschulz = original


def torch_transformer_module():
    """The transformer of the golden fixtures (Tests/GradusTestSupport/Fixtures/transformer/generate.py),
    loaded from that file so both use one definition."""
    import importlib.util
    path = os.path.join(ROOT, "Tests", "GradusTestSupport", "Fixtures", "transformer", "generate.py")
    spec = importlib.util.spec_from_file_location("transformer_fixture", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def transformer_step(layers, d, heads, context, batch, vocabulary, repeats):
    """Forward, backward and AdamW of the pre-LN transformer with LayerNorm, last-position loss, as gradus-bench."""
    torch.manual_seed(1)
    model = torch_transformer_module().Model(vocabulary, context, d, heads, layers, "pre", False, True)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, foreach=True)
    ids = torch.randint(0, vocabulary, (batch, context))
    y = torch.arange(batch) % vocabulary

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(ids), y).backward()
        opt.step()
    return median_ms(step, repeats)


def layernorm_forward_backward(rows, features):
    x = torch.randn(rows, features, requires_grad=True)
    norm = torch.nn.LayerNorm(features)
    dy = torch.randn(rows, features)

    def run():
        x.grad = None
        norm.zero_grad()
        norm(x).backward(dy)
    return median_ms(run, 20)


def sequence_table(env):
    """The transformer training step and LayerNorm forward + backward against PyTorch eager, one thread."""
    out = subprocess.run([BENCH, "transformer_l4_d256_h4_t128_b32"], env=env, capture_output=True, text=True, check=True).stdout
    g = json.loads(out)["ms"]
    t = transformer_step(4, 256, 4, 128, 32, 256, 5)
    print(f"\nTransformer step (4 blocks, d_model 256, 4 heads, context 128, batch 32, pre-LN LayerNorm, AdamW), one thread: "
          f"Gradus {g:.1f} ms, PyTorch {t:.1f} ms ({g / t:.2f}x)")
    g = json.loads(subprocess.run([BENCH, "layernorm_256x1024"], env=env, capture_output=True, text=True, check=True).stdout)["ms"]
    t = layernorm_forward_backward(256, 1024)
    print(f"LayerNorm forward + backward, 256×1024: Gradus {g:.3f} ms, PyTorch {t:.3f} ms ({g / t:.2f}x)")


def jax_side():
    """JAX medians by workload, or {} when JAX is not installed."""
    script = os.path.join(ROOT, "Benchmarks", "jax_side.py")
    env = dict(os.environ, XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    proc = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"JAX side not run: {last}")
        return {}
    return {r["workload"]: r for r in map(json.loads, proc.stdout.splitlines())}


def gradus(env):
    out = subprocess.run([BENCH], env=env, capture_output=True, text=True, check=True).stdout
    return {r["workload"]: r for r in map(json.loads, out.splitlines())}


def main():
    if not os.path.exists(BENCH):
        sys.exit(f"{BENCH} not found: run `swift build -c release --product gradus-bench` first")
    # One thread means one core: XLA keeps a second worker busy despite its thread flags (the
    # large MLP step takes 16 ms with two cores and 28 ms pinned), so this process and every
    # child (JAX, gradus-bench) run on one CPU; only the "all cores" line gets them all back.
    all_cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(all_cpus)})
    torch.set_num_threads(1)
    ref = {
        "mlp_784_1024_1024_10_b256": mlp_step([784, 1024, 1024, 10], 256, 20),
        "mlp_64_256_256_10_b128": mlp_step([64, 256, 256, 10], 128, 200),
        "adam_16m": adam_16m(fused=True),
        "adam_16m_forloop": adam_16m(fused=False),
        "sgd_momentum_16m": sgd_16m(),
        "per_op_us": per_op_us(),
    }
    jax_ref = jax_side()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", GRADUS_NUM_THREADS="1")
    unset = {k: v for k, v in env.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    runs = {"as set": gradus(env), "OpenBLAS vars unset": gradus(unset)}
    jax_version = next(iter(jax_ref.values()))["jax"] if jax_ref else "not installed"
    print(f"torch {torch.__version__}, jax {jax_version}, one thread pinned to CPU {min(all_cpus)}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print("Gradus columns: time (Gradus/PyTorch, Gradus/JAX); the 16M optimizer steps compare with torch's fused ones")
    print(f"{'workload':27} {'PyTorch':>11} {'JAX':>11} " + " ".join(f"{name:>30}" for name in runs))
    rows = [("mlp_784_1024_1024_10_b256", "ms"), ("mlp_64_256_256_10_b128", "ms"), ("adam_16m", "ms"), ("sgd_momentum_16m", "ms"),
            ("per_op_us", "us")]
    for key, unit in rows:
        cells = []
        j = jax_ref.get(key, {}).get("ms")
        for r in runs.values():
            g = r[key]["us"] if unit == "us" else r[key]["ms"]
            vs_jax = f"{g / j:5.2f}x" if j else "  n/a"
            cells.append(f"{g:8.3f} {unit} ({g / ref[key]:4.2f}x, {vs_jax})")
        jax_cell = f"{j:8.3f} {unit}" if j else "      n/a"
        print(f"{key:27} {ref[key]:8.3f} {unit} {jax_cell:>11} " + " ".join(f"{c:>30}" for c in cells))
    g = runs["as set"]["adam_16m"]["ms"]
    print(f"{'adam_16m vs torch for-loop':32} {ref['adam_16m_forloop']:9.3f} ms {g:9.3f} ms ({g / ref['adam_16m_forloop']:5.2f}x)")
    threads = len(all_cpus)
    multi = {k: v for k, v in env.items() if k != "GRADUS_NUM_THREADS"}
    out = subprocess.run([BENCH, "adam_16m"], env=multi, capture_output=True, text=True, check=True,
                         preexec_fn=lambda: os.sched_setaffinity(0, all_cpus)).stdout
    g_all = json.loads(out)["ms"]
    print(f"{'adam_16m, all ' + str(threads) + ' cores':32} {ref['adam_16m']:9.3f} ms {g_all:9.3f} ms ({g_all / ref['adam_16m']:5.2f}x torch fused on one thread)")
    optimizer_tables(env)
    sequence_table(env)
    call = runs["as set"]["abi_call_us"]["us"]
    step = runs["as set"]["mlp_64_256_256_10_b128"]["ms"] * 1000
    print(f"ABI crossing (Adam step on 1 parameter): {call:.3f} us = {100 * call / step:.2f}% of the small-MLP step")


def optimizer_tables(env):
    """Every element-wise optimizer's 16M step against its memory-traffic bound (bytes it must move ÷ the
    STREAM-triad bandwidth measured in the same gradus-bench run) and, where torch has it, torch's fused or
    foreach step; Muon's step on two matrices; the MLP step with Muon + AdamW routing."""
    out = subprocess.run([BENCH, "bound"], env=env, capture_output=True, text=True, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    print(f"\nElement-wise optimizers, 16M parameters, one thread; bound = floats moved × 4 B ÷ triad "
          f"{rows[0]['gbps']:.1f} GB/s (in-place updates skip the write-allocate a triad pays, so a ratio may be below 1)")
    print(f"{'optimizer':20} {'floats':>6} {'Gradus':>10} {'bound':>10} {'ratio':>6} {'PyTorch':>18} {'Gradus/PyTorch':>15}")
    for r in rows:
        name = r["workload"].split("/", 1)[1]
        torch_ms, impl = torch_optimizer_16m(name) if name in TORCH_ELEMENTWISE else (None, "")
        torch_cell = f"{torch_ms:8.2f} ms {impl:>7}" if torch_ms else "               —"
        vs = f"{r['ms'] / torch_ms:14.2f}x" if torch_ms else "              —"
        print(f"{name:20} {r['floats']:6d} {r['ms']:7.2f} ms {r['bound_ms']:7.2f} ms {r['ratio']:6.2f} {torch_cell} {vs}")
    print("\nMuon step (lr 0.02, 5 Newton–Schulz steps), one thread")
    for rows_, cols in [(1024, 1024), (4096, 1024)]:
        g = json.loads(subprocess.run([BENCH, f"muon_{rows_}x{cols}"], env=env, capture_output=True, text=True, check=True).stdout)["ms"]
        t32, tbf = torch_muon(rows_, cols, True), torch_muon(rows_, cols, False)
        print(f"  {rows_}×{cols}: Gradus (float32) {g:8.2f} ms; torch.optim.Muon float32 {t32:8.2f} ms ({g / t32:4.2f}x), "
              f"bfloat16 {tbf:8.2f} ms ({g / tbf:4.2f}x)")
    g = json.loads(subprocess.run([BENCH, "mlp_784_1024_1024_10_b256_muon"], env=env, capture_output=True, text=True, check=True).stdout)["ms"]
    t = routed_mlp_step([784, 1024, 1024, 10], 256, 10)
    print(f"\nMLP 784-1024-1024-10, batch 256, Muon (hidden matrices) + AdamW (the rest), Newton–Schulz in float32 "
          f"on both sides: Gradus {g:.2f} ms, PyTorch {t:.2f} ms ({g / t:.2f}x)")


if __name__ == "__main__":
    main()
