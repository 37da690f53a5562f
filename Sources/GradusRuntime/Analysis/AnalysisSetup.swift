import GradusCore
import GradusNN

/// A checkpoint made ready for `gradus analyze`: the model of its configuration holding the saved
/// weights and normalizer buffers, and the configuration's training and test splits (the same
/// seeded split and standardisation as the run that wrote it). Pruning masks play no part: pruned
/// weights are the zeros saved in the file, and the analyses treat them like any other weight.
public struct AnalysisSetup {
    public let path: String
    public let checkpoint: Checkpoint
    public let model: Sequential
    public let train: Dataset
    public let test: Dataset

    /// Reads the checkpoint at `path` and rebuilds its model and data. With `secondOrder`, every
    /// normalization slot runs its graph form so that Hessian-vector products pass through it; a
    /// configuration that chose the kernel form is switched to the graph form (both compute the
    /// same function), and a normalizer without a graph form is refused.
    public static func load(_ path: String, registry: PluginRegistry, secondOrder: Bool = false) throws -> AnalysisSetup {
        let checkpoint = try Checkpoint(contentsOf: path)
        return try AnalysisSetup(path: path, checkpoint: checkpoint, registry: registry, secondOrder: secondOrder)
    }

    /// The model and data of an already read checkpoint (`path` only names it in messages).
    public init(path: String, checkpoint: Checkpoint, registry: PluginRegistry, secondOrder: Bool = false) throws {
        var config = checkpoint.config
        if secondOrder, config.normalizerForm == .kernel { config.normalizerForm = .auto }
        try Trainer.validate(config)
        let (train, test) = try Trainer.loadData(config, testSplit: true)
        let model = try Trainer.buildModel(config, data: train, classes: max(train.classes, test.classes), registry: registry,
                                           needsSecondOrder: secondOrder)
        if secondOrder, let layer = model.descendants.compactMap({ $0 as? PluginNormalization }).first(where: \.firstOrderOnly) {
            throw GradusError("\(path): normalizer \(layer.session.strategy.id) has no graph form, so Hessian-vector products cannot pass through it")
        }
        try checkpoint.restoreWeights(into: model)
        self.path = path
        self.checkpoint = checkpoint
        self.model = model
        self.train = train
        self.test = test
    }
}

/// Which rows of a split an analysis uses: the first `n` (in the split's seeded order) or all.
public enum RowSelection: Equatable, Sendable {
    case first(Int)
    case all

    /// The rows of `data` selected, as a dataset of their own (`data` itself for `.all`).
    public func rows(of data: Dataset) throws -> Dataset {
        switch self {
        case .all: return data
        case .first(let n):
            guard n >= 1, n <= data.count else {
                throw GradusError("\(n) rows: expected 1...\(data.count) (the rows of \(data.name))")
            }
            if n == data.count { return data }
            let (x, labels) = data.batch(Array(0..<n)[...])
            return try Dataset(name: data.name, features: x, labels: labels, imageShape: data.imageShape)
        }
    }
}
