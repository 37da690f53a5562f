import Foundation
import GradusCore
import GradusNN

/// Everything a training run needs; the defaults are the built-in digits job
/// (MLP 64-128-10, Adam lr 1e-3, batch 64, 20 epochs, 80/20 split, seed 0).
public struct TrainConfig {
    public var dataset = "digits"
    public var hidden: [Int] = [128]
    public var optimizer = "adam"
    /// Optimizer hyperparameters as text, validated against the plugin's schema.
    public var optimizerSettings: [(String, String)] = [("lr", "0.001")]
    public var epochs = 20
    public var batchSize = 64
    public var seed: UInt64 = 0
    public var testFraction = 0.2
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

    public var jsonLine: String {
        "{\"epoch\": \(epoch), \"train_loss\": \(trainLoss), \"test_loss\": \(testLoss), \"test_accuracy\": \(testAccuracy), \"seconds\": \(seconds)}"
    }
}

/// Trains a model on a dataset with an optimizer plugin, step by step through the C ABI.
public final class Trainer {
    public let config: TrainConfig
    public let train: Dataset
    public let test: Dataset
    public let model: Sequential
    public let optimizer: OptimizerSession
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
            let (testLoss, accuracy) = evaluate(test)
            let m = EpochMetrics(epoch: epoch, trainLoss: lossSum / Double(train.count), testLoss: testLoss,
                                 testAccuracy: accuracy, seconds: Date().timeIntervalSince(start))
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
            g.value.withUnsafeBuffer { src in hp.grad.storage.baseAddress!.update(from: src.baseAddress!, count: src.count) }
        }
        try optimizer.step(loss: value, run: TrainingRunContext(model: model, x: x, labels: y, loss: value))
        return value
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
