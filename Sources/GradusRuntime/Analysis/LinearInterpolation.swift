import GradusCore
import GradusNN

/// Loss and accuracy along the straight line between two checkpoints' weights,
/// θ(α) = (1 − α)·θ_A + α·θ_B, on training rows and on the test split.
public struct InterpolationPath: Sendable {
    public let alphas: [Double]
    public let trainLoss: [Double]
    public let trainAccuracy: [Double]
    public let testLoss: [Double]
    public let testAccuracy: [Double]

    /// The loss barrier on the training rows (see `LinearInterpolation.barrier`).
    public var trainBarrier: Double { LinearInterpolation.barrier(alphas: alphas, losses: trainLoss) }
    /// The loss barrier on the test split.
    public var testBarrier: Double { LinearInterpolation.barrier(alphas: alphas, losses: testLoss) }

    public var jsonFields: [(String, String)] {
        func list(_ v: [Double]) -> String { JSONText.array(v.map(JSONText.number)) }
        return [("alphas", list(alphas)), ("train_loss", list(trainLoss)), ("train_accuracy", list(trainAccuracy)),
                ("test_loss", list(testLoss)), ("test_accuracy", list(testAccuracy)),
                ("train_barrier", JSONText.number(trainBarrier)), ("test_barrier", JSONText.number(testBarrier))]
    }
}

/// Linear mode connectivity between two checkpoints (Frankle, Dziugaite, Roy & Carbin 2020, "Linear
/// Mode Connectivity and the Lottery Ticket Hypothesis"; Garipov et al. 2018 for the straight-line
/// baseline). Every parameter and every normalizer buffer is interpolated: BatchNorm's running
/// statistics move with the weights, so the network at α is the convex combination of both saved
/// networks (re-estimating the statistics at each α instead is a different experiment). The model,
/// data split and standardisation are those of A's configuration; evaluation is `gradus eval`'s
/// (eval mode, chunks of 512 rows), so the end points are the two checkpoints' own losses.
public enum LinearInterpolation {
    /// Refuses two checkpoints that are not the same network: a different architecture or
    /// normalizer, or a parameter or buffer that one lacks or holds with another shape.
    public static func checkCompatible(_ a: Checkpoint, _ aPath: String, _ b: Checkpoint, _ bPath: String) throws {
        let expected = "expected two checkpoints of the same architecture and shapes"
        func describe(_ c: TrainConfig) -> String {
            "model.arch=\(c.arch), model.hidden=\(c.hidden.map(String.init).joined(separator: ","))"
                + (c.arch == "lenet" ? ", model.channels=\(c.channels.map(String.init).joined(separator: ","))" : "")
                + ", normalizer=\(c.normalizer ?? "none")"
        }
        let (ca, cb) = (a.config, b.config)
        guard ca.arch == cb.arch, ca.hidden == cb.hidden, ca.arch != "lenet" || ca.channels == cb.channels, ca.normalizer == cb.normalizer else {
            throw GradusError("\(bPath): \(describe(cb)) differs from \(aPath): \(describe(ca)); \(expected)")
        }
        for name in Set(a.weights.keys).union(b.weights.keys).sorted() {
            guard let wa = a.weights[name] else { throw GradusError("\(bPath) has \(name), which \(aPath) lacks; \(expected)") }
            guard let wb = b.weights[name] else { throw GradusError("\(aPath) has \(name), which \(bPath) lacks; \(expected)") }
            guard wa.shape == wb.shape else {
                throw GradusError("\(bPath): \(name) has shape \(wb.shape), \(aPath) has \(wa.shape); \(expected)")
            }
        }
    }

    /// The data settings (dataset, labels, seed, test_fraction, normalize) in which B's configuration
    /// differs from A's, as "key=B's value (A: A's value)": the rows evaluated are A's split, which
    /// may then hold B's training rows in A's test split (a different seed re-splits the data).
    public static func dataDifferences(_ a: TrainConfig, _ b: TrainConfig) -> [String] {
        let keys: Set<String> = ["dataset", "labels", "seed", "test_fraction", "normalize"]
        let pa = Dictionary(TrainConfigParsing.pairs(a).filter { keys.contains($0.0) }, uniquingKeysWith: { $1 })
        let pb = Dictionary(TrainConfigParsing.pairs(b).filter { keys.contains($0.0) }, uniquingKeysWith: { $1 })
        return keys.sorted().compactMap { key in
            pa[key] == pb[key] ? nil : "\(key)=\(pb[key] ?? "none") (A: \(pa[key] ?? "none"))"
        }
    }

    /// (1 − α)·a + α·b, computed as a + α·(b − a) in float32 so that α = 0 gives a, a == b gives
    /// a for every α, and α = 1 gives b (taken as is), bit for bit.
    public static func blend(_ a: Tensor, _ b: Tensor, _ alpha: Double) -> Tensor {
        precondition(a.shape == b.shape, "blend of shapes \(a.shape) and \(b.shape)")
        if alpha == 1 { return b }
        var out = a
        let s = Float(alpha)
        out.withUnsafeMutableBuffer { o in b.withUnsafeBuffer { bb in
            for i in 0..<o.count { o[i] += s * (bb[i] - o[i]) }
        } }
        return out
    }

    /// max over α of loss(α) − ((1 − α)·loss(0) + α·loss(1)), the height of the loss barrier on the
    /// path above the line between its ends (0 when the path never rises above that line; at least 0
    /// because both ends are on it). The α must run from 0 to 1.
    public static func barrier(alphas: [Double], losses: [Double]) -> Double {
        guard let first = losses.first, let last = losses.last else { return 0 }
        return zip(alphas, losses).map { a, l in l - (first + a * (last - first)) }.max() ?? 0
    }

    /// Evaluates `steps` + 1 evenly spaced points α = k/steps on `trainRows` and `test`, writing
    /// each interpolated network into `model` (which must be the architecture of A's configuration);
    /// the model holds A's weights again afterwards.
    public static func run(model: Sequential, a: Checkpoint, b: Checkpoint, trainRows: Dataset, test: Dataset,
                           steps: Int) throws -> InterpolationPath {
        precondition(steps >= 1, "at least one step")
        let named = Checkpoint.named(model)
        for (name, shape, _) in named {
            guard a.weights[name]?.shape == shape, b.weights[name]?.shape == shape else {
                throw GradusError("the checkpoints lack \(name) of shape \(shape) that the model of their configuration has")
            }
        }
        func place(_ alpha: Double) {
            for (name, _, storage) in named { blend(a.weights[name]!, b.weights[name]!, alpha).copy(to: storage.pointer) }
        }
        defer { place(0) }
        let alphas = (0...steps).map { Double($0) / Double(steps) }
        var trainLoss: [Double] = [], trainAccuracy: [Double] = [], testLoss: [Double] = [], testAccuracy: [Double] = []
        for alpha in alphas {
            place(alpha)
            let train = try Trainer.evaluate(model, on: trainRows), held = try Trainer.evaluate(model, on: test)
            trainLoss.append(train.loss)
            trainAccuracy.append(train.accuracy)
            testLoss.append(held.loss)
            testAccuracy.append(held.accuracy)
        }
        return InterpolationPath(alphas: alphas, trainLoss: trainLoss, trainAccuracy: trainAccuracy, testLoss: testLoss, testAccuracy: testAccuracy)
    }
}
