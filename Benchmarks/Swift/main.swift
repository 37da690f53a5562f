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
/// another strategy with `settings`).
func optimizerStep(_ n: Int, repeats: Int, strategy: StrategyDescriptor = adam, settings: [(String, String)] = []) throws -> Double {
    let p = HostParameter(name: "w", role: .matrix, shape: [n], values: [Float](repeating: 0.5, count: n))
    p.grad.values = [Float](repeating: 0.01, count: n)
    let hp = try HyperparameterSet(schema: strategy.hyperparameters, overrides: settings, owner: "bench")
    let session = try OptimizerSession(strategy: strategy, hyperparameters: hp, parameters: [p])
    return try measure(repeats: repeats) { try session.step() }
}

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
