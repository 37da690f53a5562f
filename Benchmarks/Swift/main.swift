// gradus-bench: the Gradus side of the side-by-side benchmarks (Benchmarks/compare.py runs the
// PyTorch side in the same invocation and prints ratios). Prints one JSON line per workload with
// the median milliseconds over the repetitions. Build with -c release.
import Foundation
import GradusCore
import GradusNN
import GradusRuntime

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }

/// Median wall time of `body` in milliseconds after `warmup` untimed runs.
func measure(repeats: Int, warmup: Int = 2, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<warmup { try body() }
    var times: [Double] = []
    for _ in 0..<repeats {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
    }
    return median(times)
}

func report(_ name: String, _ ms: Double, _ extra: String = "") {
    print("{\"workload\": \"\(name)\", \"ms\": \(ms)\(extra)}")
    fflush(stdout)
}

let registry = PluginRegistry(search: { var s = PluginSearch(); s.environmentPath = nil; return s }())
let adam = try registry.require("adam", kind: .optimizer)

/// One training step (forward, backward, Adam through the ABI) of an MLP on random data,
/// through the same `Trainer.step` that `gradus train` runs.
func mlpStep(_ sizes: [Int], batch: Int, repeats: Int) throws -> Double {
    var rng = RandomStream(seed: 1, stream: "bench")
    let x = Tensor(shape: [batch, sizes[0]], scalars: (0..<batch * sizes[0]).map { _ in rng.normal() })
    let labels = (0..<batch).map { i in i % sizes.last! }      // every class present
    let data = try Dataset(name: "random", features: x, labels: labels)
    var config = TrainConfig()
    config.hidden = Array(sizes.dropFirst().dropLast())
    config.batchSize = batch
    config.seed = 1
    let trainer = try Trainer(config: config, train: data, test: data, registry: registry)
    let rows = Array(0..<batch)[...]
    return try measure(repeats: repeats) { _ = try trainer.step(rows) }
}

/// An optimizer plugin's step on `n` parameters in one tensor (Adam with its defaults, or
/// another strategy with `settings`), or on a matrix of `shape`.
func optimizerStep(_ n: Int, repeats: Int, strategy: StrategyDescriptor = adam, settings: [(String, String)] = [],
                   shape: [Int]? = nil) throws -> Double {
    var rng = RandomStream(seed: 3, stream: "bench")
    let p = HostParameter(name: "w", role: .matrix, shape: shape ?? [n], values: (0..<n).map { _ in 0.5 + 0.01 * rng.normal() })
    p.grad.values = (0..<n).map { _ in 0.01 * rng.normal() }
    let hp = try HyperparameterSet(schema: strategy.hyperparameters, overrides: settings, owner: "bench")
    let session = try OptimizerSession(strategy: strategy, hyperparameters: hp, parameters: [p])
    return try measure(repeats: repeats) { try session.step(loss: 1) }
}

/// One training step of an MLP with Muon on the hidden matrices and AdamW on the rest (routing).
func routedMLPStep(_ sizes: [Int], batch: Int, repeats: Int) throws -> Double {
    var rng = RandomStream(seed: 1, stream: "bench")
    let x = Tensor(shape: [batch, sizes[0]], scalars: (0..<batch * sizes[0]).map { _ in rng.normal() })
    let data = try Dataset(name: "random", features: x, labels: (0..<batch).map { $0 % sizes.last! })
    var config = TrainConfig()
    config.hidden = Array(sizes.dropFirst().dropLast())
    config.batchSize = batch
    config.seed = 1
    config.optimizer = "adamw"
    config.optimizerSettings = [("lr", "0.003")]
    config.routes = [("matrix", "muon", [("lr", "0.02")])]
    let trainer = try Trainer(config: config, train: data, test: data, registry: registry)
    let rows = Array(0..<batch)[...]
    return try measure(repeats: repeats) { _ = try trainer.step(rows) }
}

/// a[i] = b[i] + 3·c[i], vectorized (the compiler checks the pointers do not overlap).
@inline(never)
func triad(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>, _ n: Int) {
    let x = UnsafeMutableBufferPointer(start: a, count: n), y = UnsafeBufferPointer(start: b, count: n), z = UnsafeBufferPointer(start: c, count: n)
    for i in 0..<n { x[i] = y[i] + 3 * z[i] }
}

/// The STREAM triad a = b + s·c over `n` floats, in GB/s (12 bytes per element: two reads, one write,
/// as STREAM counts it; the cache line the write allocates is not counted).
func triadBandwidth(_ n: Int) -> Double {
    let a = UnsafeMutablePointer<Float>.allocate(capacity: n), b = UnsafeMutablePointer<Float>.allocate(capacity: n)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: n)
    defer { a.deallocate(); b.deallocate(); c.deallocate() }
    a.initialize(repeating: 0, count: n); b.initialize(repeating: 1, count: n); c.initialize(repeating: 2, count: n)
    let ms = measure(repeats: 10) { triad(a, b, c, n) }
    return Double(12 * n) / (ms / 1e3) / 1e9
}

/// Element-wise optimizers and the floats each must move per parameter per step (reads + writes of
/// the parameter, its gradient and its state; a second pass over memory counts again), at default
/// settings. Optimizers whose step is not element-wise (matrix or low-rank methods, DCT-Adam,
/// Optimistic AMSGrad's gradient history) are not in this table.
let elementwiseTraffic: [(id: String, settings: [(String, String)], floats: Int, note: String)] = [
    ("sgd", [("lr", "0.01"), ("momentum", "0.9")], 5, "x g b → x b"),
    ("adam", [], 7, "x g m v → x m v"), ("adamw", [], 7, "x g m v → x m v"), ("adamax", [], 7, "x g m u → x m u"),
    ("nadam", [], 7, "x g m v → x m v"), ("radam", [], 7, "x g m v → x m v"), ("adagrad", [], 5, "x g G → x G"),
    ("rmsprop", [], 5, "x g v → x v"), ("rprop", [], 7, "x g prev size → x prev size"), ("lion", [], 5, "x g m → x m"),
    ("adabelief", [], 7, "x g m s → x m s"), ("exadam", [], 7, "x g m v → x m v"), ("adan", [], 11, "x g m d n prev → x m d n prev"),
    ("schedulefree_adamw", [], 7, "y g z v → y z v"), ("normalized_gd", [], 3, "x g → x"), ("adamp", [], 7, "as Adam (vectors)"),
    ("sgdp", [("momentum", "0.9")], 5, "as SGD (vectors)"), ("subset_norm", [], 5, "x g m → x m (+ √d values)"),
    ("lamb", [], 10, "two passes: x g m v → m v, then x m v → x"), ("lars", [], 5, "x g b → x b (a vector: matrices add a pass for the norms)"),
    ("dog", [], 6, "norms of x x0 g, then x g → x"), ("ldog", [], 6, "norms of x x0 g, then x g → x"),
    ("prodigy", [], 13, "x g p0 s m v → s m v, then x m v → x"), ("dadapt_adam", [], 11, "g s m v → s m v, then x m v → x"),
]

/// Cost of one tiny recorded op (graph bookkeeping, not arithmetic), in microseconds.
func perOpMicroseconds() -> Double {
    let a = Variable(Tensor(shape: [1], scalars: [1]), requiresGrad: true), b = Variable(Tensor(shape: [1], scalars: [2]))
    let n = 100_000
    let ms = measure(repeats: 5) { var y = a; for _ in 0..<n { y = y * b }; _ = y }
    return ms * 1000 / Double(n)
}

/// A plugin step on one tiny parameter: the whole cost of crossing the ABI once.
func abiCallMicroseconds() throws -> Double {
    let p = HostParameter(name: "w", role: .vector, shape: [1], values: [1])
    let session = try OptimizerSession(strategy: adam, hyperparameters: HyperparameterSet(schema: adam.hyperparameters, owner: "bench"),
                                       parameters: [p])
    let n = 100_000
    let ms = try measure(repeats: 5) { for _ in 0..<n { try session.step() } }
    return ms * 1000 / Double(n)
}

/// One training step (forward, backward, AdamW through the ABI) of a decoder-only transformer with
/// LayerNorm (kernel form) on random token sequences, through `Trainer.step`; the loss is the
/// next-token cross-entropy of the last position.
func transformerStep(layers: Int, dModel: Int, heads: Int, context: Int, batch: Int, vocabulary: Int, repeats: Int) throws -> Double {
    var rng = RandomStream(seed: 1, stream: "bench")
    let ids = Tensor(shape: [batch, context], scalars: (0..<batch * context).map { _ in Float(Int(rng.uniform() * Float(vocabulary)) % vocabulary) })
    let data = try Dataset(name: "tokens", features: ids, labels: (0..<batch).map { $0 % vocabulary }, vocabulary: vocabulary)
    var config = TrainConfig()
    (config.arch, config.layers, config.dModel, config.heads) = ("transformer", layers, dModel, heads)
    config.normalizer = "layernorm"
    config.optimizer = "adamw"
    config.batchSize = batch
    config.seed = 1
    let trainer = try Trainer(config: config, train: data, test: data, registry: registry)
    let rows = Array(0..<batch)[...]
    return try measure(repeats: repeats) { _ = try trainer.step(rows) }
}

/// LayerNorm's kernel form, forward then backward, on a [rows, features] batch.
func layerNormForwardBackward(rows: Int, features: Int, repeats: Int) throws -> Double {
    let strategy = try registry.require("layernorm", kind: .normalizer)
    let session = try NormalizerSession(strategy: strategy, hyperparameters: try HyperparameterSet(schema: strategy.hyperparameters, owner: "bench"),
                                        inputShape: [rows, features])
    var rng = RandomStream(seed: 2, stream: "bench")
    let x = HostTensor(shape: [rows, features], values: (0..<rows * features).map { _ in rng.normal() })
    let dy = HostTensor(shape: [rows, features], values: (0..<rows * features).map { _ in rng.normal() })
    return try measure(repeats: repeats) {
        _ = try session.forward(x)
        _ = try session.backward(x, dy: dy)
    }
}

let only = CommandLine.arguments.dropFirst().first
func wanted(_ name: String) -> Bool { only == nil || only == name }
if wanted("mlp_784_1024_1024_10_b256") { report("mlp_784_1024_1024_10_b256", try mlpStep([784, 1024, 1024, 10], batch: 256, repeats: 20)) }
if wanted("mlp_64_256_256_10_b128") { report("mlp_64_256_256_10_b128", try mlpStep([64, 256, 256, 10], batch: 128, repeats: 200)) }
if wanted("adam_16m") { report("adam_16m", try optimizerStep(16 * 1024 * 1024, repeats: 10)) }
if wanted("sgd_momentum_16m") {
    let sgd = try registry.require("sgd", kind: .optimizer)
    report("sgd_momentum_16m", try optimizerStep(16 * 1024 * 1024, repeats: 10, strategy: sgd, settings: [("lr", "0.01"), ("momentum", "0.9")]))
}
if wanted("per_op_us") { report("per_op_us", perOpMicroseconds() / 1000, ", \"us\": \(perOpMicroseconds())") }
if wanted("abi_call_us") {
    let us = try abiCallMicroseconds()
    report("abi_call_us", us / 1000, ", \"us\": \(us)")
}
if wanted("triad") { report("triad", 0, ", \"gbps\": \(triadBandwidth(16 * 1024 * 1024))") }
if wanted("bound") {
    // The memory-traffic bound of each element-wise optimizer's 16M step, against the triad measured here.
    let n = 16 * 1024 * 1024, gbps = triadBandwidth(n)
    for row in elementwiseTraffic {
        let strategy = try registry.require(row.id, kind: .optimizer)
        let ms = try optimizerStep(n, repeats: 5, strategy: strategy, settings: row.settings)
        let boundMS = Double(4 * row.floats * n) / (gbps * 1e9) * 1e3
        report("bound/" + row.id, ms, ", \"bound_ms\": \(boundMS), \"ratio\": \(ms / boundMS), \"floats\": \(row.floats), \"gbps\": \(gbps)")
    }
}
for (rows, cols) in [(1024, 1024), (4096, 1024)] where wanted("muon_\(rows)x\(cols)") {
    let muon = try registry.require("muon", kind: .optimizer)
    report("muon_\(rows)x\(cols)", try optimizerStep(rows * cols, repeats: 5, strategy: muon, settings: [("lr", "0.02")], shape: [rows, cols]))
}
if wanted("transformer_l4_d256_h4_t128_b32") {
    report("transformer_l4_d256_h4_t128_b32", try transformerStep(layers: 4, dModel: 256, heads: 4, context: 128, batch: 32, vocabulary: 256, repeats: 5))
}
if wanted("layernorm_256x1024") { report("layernorm_256x1024", try layerNormForwardBackward(rows: 256, features: 1024, repeats: 20)) }
if wanted("mlp_784_1024_1024_10_b256_muon") {
    report("mlp_784_1024_1024_10_b256_muon", try routedMLPStep([784, 1024, 1024, 10], batch: 256, repeats: 10))
}
