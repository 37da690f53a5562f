import Foundation
import GradusCore
import GradusNN

/// Everything a training run needs; the defaults are the built-in digits job
/// (MLP 64-128-10, Adam lr 1e-3, batch 64, 20 epochs, 80/20 split, seed 0).
public struct TrainConfig {
    public var dataset = "digits"
    public var hidden: [Int] = [128]
    public var optimizer = "adam"
    /// Optimizer hyperparameters as text, validated against the plugin's schema (Adam's own default lr is 1e-3).
    public var optimizerSettings: [(String, String)] = []
    public var epochs = 20
    public var batchSize = 64
    public var seed: UInt64 = 0
    public var testFraction = 0.2
    /// A pruner plugin id (nil: no pruning) and its hyperparameters; `sparsity` is the final target.
    public var pruner: String?
    public var prunerSettings: [(String, String)] = []
    /// Pruning events happen at the end of epochs start...end, following Zhu & Gupta's cubic ramp;
    /// the end defaults to half the epochs. Events past the last epoch of a run do not happen.
    public var pruneStartEpoch = 1
    public var pruneEndEpoch: Int?
    var pruneEnd: Int { pruneEndEpoch ?? max(pruneStartEpoch, epochs / 2) }
    /// "standardize": z-score every feature with the training split's statistics; "none": raw features.
    public var normalize = "standardize"
    public init() {}
}

/// One line of metrics per epoch.
public struct EpochMetrics: Sendable {
    public let epoch: Int
    public let trainLoss: Double
    public let testLoss: Double
    public let testAccuracy: Double
    public let seconds: Double
    /// Fraction of masked prunable weights, when the run prunes.
    public let sparsity: Double?

    public var jsonLine: String {
        let s = sparsity.map { ", \"sparsity\": \($0)" } ?? ""
        return "{\"epoch\": \(epoch), \"train_loss\": \(trainLoss), \"test_loss\": \(testLoss), \"test_accuracy\": \(testAccuracy)\(s), \"seconds\": \(seconds)}"
    }
}

/// Trains a model on a dataset with an optimizer plugin, step by step through the C ABI.
public final class Trainer {
    public let config: TrainConfig
    public let train: Dataset
    public let test: Dataset
    public let model: Sequential
    public let optimizer: OptimizerSession
    /// Masks for the prunable weights when the run prunes.
    public let pruning: PruningSession?
    private let finalSparsity: Double
    private let hostParameters: [HostParameter]
    /// Epochs finished so far (set by a restored checkpoint); `run` continues after them.
    public var completedEpochs = 0
    /// When set, a checkpoint is written here (atomically) after every epoch.
    public var checkpointPath: String?

    public init(config: TrainConfig, registry: PluginRegistry) throws {
        guard config.epochs >= 1 else { throw GradusError("epochs=\(config.epochs): expected an integer >= 1") }
        guard config.batchSize >= 1 else { throw GradusError("batch_size=\(config.batchSize): expected an integer >= 1") }
        guard config.testFraction > 0, config.testFraction < 1 else {
            throw GradusError("test_fraction=\(config.testFraction): expected a number in (0, 1)")
        }
        guard config.hidden.allSatisfy({ $0 >= 1 }) else { throw GradusError("hidden=\(config.hidden): expected positive layer sizes") }
        self.config = config
        let data: Dataset
        switch config.dataset {
        case "digits": data = try Dataset.digits()
        case let path where path.hasSuffix(".csv"): data = try Dataset.csv(path: path)
        default: throw GradusError("dataset='\(config.dataset)': expected 'digits' or a path to a .csv file")
        }
        let (rawTrain, rawTest) = try data.split(testFraction: config.testFraction, seed: config.seed)
        switch config.normalize {
        case "standardize":
            let (mean, std) = rawTrain.columnStatistics()
            (train, test) = (try rawTrain.standardized(mean: mean, std: std), try rawTest.standardized(mean: mean, std: std))
        case "none": (train, test) = (rawTrain, rawTest)
        default: throw GradusError("normalize='\(config.normalize)': expected 'standardize' or 'none'")
        }
        model = Sequential.mlp([data.featureCount] + config.hidden + [data.classes], seed: config.seed)
        hostParameters = model.parameters.map {
            HostParameter(name: $0.name, role: Role(rawValue: $0.role.rawValue) ?? .unknown, shape: $0.shape, storage: $0.storage)
        }
        let strategy = try registry.require(config.optimizer, kind: .optimizer)
        let hp = try HyperparameterSet(schema: strategy.hyperparameters, overrides: config.optimizerSettings, owner: strategy.id)
        optimizer = try OptimizerSession(strategy: strategy, hyperparameters: hp, parameters: hostParameters, seed: config.seed,
                                         available: HostCapabilities.trainingRun)
        if let prunerID = config.pruner {
            guard config.pruneStartEpoch >= 1, config.pruneEnd >= config.pruneStartEpoch else {
                throw GradusError("prune_start_epoch=\(config.pruneStartEpoch), prune_end_epoch=\(config.pruneEnd): expected 1 <= start <= end")
            }
            let p = try registry.require(prunerID, kind: .pruner)
            let php = try HyperparameterSet(schema: p.hyperparameters, overrides: config.prunerSettings, owner: p.id)
            let targets = zip(model.parameters, hostParameters).filter { $0.0.prunable }.map(\.1)
            pruning = try PruningSession(strategy: p, hyperparameters: php, targets: targets, seed: config.seed)
            finalSparsity = php["sparsity"]?.numeric ?? 0
        } else {
            pruning = nil
            finalSparsity = 0
        }
    }

    /// Runs the remaining epochs, calling `emit` after each; returns the last epoch's metrics.
    /// Each epoch's shuffle depends only on the seed and the epoch number, so a run resumed from
    /// a checkpoint is bit-identical to one that never stopped.
    @discardableResult
    public func run(emit: (EpochMetrics) -> Void = { _ in }) throws -> EpochMetrics? {
        var last: EpochMetrics?
        for epoch in stride(from: completedEpochs + 1, through: config.epochs, by: 1) {
            let start = Date()
            var rng = RandomStream(seed: config.seed, stream: "shuffle/\(epoch)")
            let order = Dataset.permutation(train.count, &rng)
            var lossSum = 0.0
            var i = 0
            while i < order.count {
                let batch = order[i..<min(i + config.batchSize, order.count)]
                lossSum += try step(batch) * Double(batch.count)
                i += config.batchSize
            }
            try pruneIfScheduled(after: epoch)
            let (testLoss, accuracy) = evaluate(test)
            let m = EpochMetrics(epoch: epoch, trainLoss: lossSum / Double(train.count), testLoss: testLoss,
                                 testAccuracy: accuracy, seconds: Date().timeIntervalSince(start), sparsity: pruning?.sparsity)
            completedEpochs = epoch
            if let path = checkpointPath { try Checkpoint(self, epoch: epoch).write(to: path) }
            emit(m)
            last = m
        }
        return last
    }

    /// One optimizer step on the rows `batch` of the training set; returns the batch loss.
    func step(_ batch: ArraySlice<Int>) throws -> Double {
        let (x, y) = train.batch(batch)
        let bindings = ParameterBindings(model.parameters)
        let loss = crossEntropy(logits: model.forward(Variable(x), bindings, mode: .train), labels: y)
        let value = Double(loss.value.scalar)
        guard value.isFinite else { throw GradusError("loss is \(value) at step \(optimizer.stepCount + 1); lower the learning rate") }
        let grads = Autodiff.gradients(of: loss, wrt: bindings.variables)
        for (hp, g) in zip(hostParameters, grads) {
            g.value.copy(to: hp.grad.backing.pointer)
        }
        pruning?.applyToGradients()
        try optimizer.step(loss: value, run: TrainingRunContext(model: model, x: x, labels: y, loss: value))
        if let pruning {
            pruning.applyToWeights()            // decay and momentum would otherwise resurrect pruned weights
            pruning.applyToState(of: optimizer)
        }
        return value
    }

    /// Gradual magnitude pruning (Zhu & Gupta): at the end of epoch e in [start, end] the target is
    /// s_f·(1 − (1 − k/n)³), k = e − start + 1, n = end − start + 1, reaching s_f at `end`.
    func pruneIfScheduled(after epoch: Int) throws {
        guard let pruning, epoch >= config.pruneStartEpoch, epoch <= config.pruneEnd else { return }
        let k = Double(epoch - config.pruneStartEpoch + 1), n = Double(config.pruneEnd - config.pruneStartEpoch + 1)
        let target = finalSparsity * (1 - Glibc.pow(1 - k / n, 3))
        if let i = pruning.hyperparameters.index(of: "sparsity") { try pruning.hyperparameters.set(i, .real(target)) }
        try pruning.prune(step: optimizer.stepCount)
        pruning.applyToState(of: optimizer)
    }

    /// Mean loss and accuracy on `data`, without recording.
    public func evaluate(_ data: Dataset) -> (loss: Double, accuracy: Double) {
        GradMode.with(recording: false) {
            let bindings = ParameterBindings(model.parameters)
            let logits = model.forward(Variable(data.features), bindings, mode: .eval)
            let loss = Double(crossEntropy(logits: logits, labels: data.labels).value.scalar)
            let c = logits.shape[1]
            var correct = 0
            logits.value.withUnsafeBuffer { z in
                for (i, label) in data.labels.enumerated() {
                    var best = 0
                    for j in 1..<c where z[i * c + j] > z[i * c + best] { best = j }
                    if best == label { correct += 1 }
                }
            }
            return (loss, Double(correct) / Double(data.count))
        }
    }
}
