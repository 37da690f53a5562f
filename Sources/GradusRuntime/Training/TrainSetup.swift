import Glibc
import GradusCore
import GradusNN

/// How a `TrainConfig` becomes data, a model, parameter groups and schedules.
extension Trainer {
    static func validate(_ config: TrainConfig) throws {
        guard config.epochs >= 1 else { throw GradusError("epochs=\(config.epochs): expected an integer >= 1") }
        guard config.batchSize >= 1 else { throw GradusError("batch_size=\(config.batchSize): expected an integer >= 1") }
        guard config.accumulateSteps >= 1, Checked.product([config.batchSize, config.accumulateSteps], limit: 1 << 40) != nil else {
            throw GradusError("accumulate_steps=\(config.accumulateSteps) with batch_size=\(config.batchSize): expected an integer >= 1 whose product with batch_size stays below 2^40")
        }
        guard config.testFraction > 0, config.testFraction < 1 else {
            throw GradusError("test_fraction=\(config.testFraction): expected a number in (0, 1)")
        }
        guard config.hidden.allSatisfy({ $0 >= 1 }) else { throw GradusError("hidden=\(config.hidden): expected positive layer sizes") }
        guard config.dropout >= 0, config.dropout < 1 else { throw GradusError("model.dropout=\(config.dropout): expected a number in [0, 1)") }
        guard config.checkpointEvery >= 0 else { throw GradusError("checkpoint_every=\(config.checkpointEvery): expected an integer >= 0") }
        if config.pruner == nil {
            if let (key, value) = config.prunerSettings.first {
                throw GradusError("pruner.\(key)=\(value): no pruner is set (set pruner=ID, e.g. pruner=magnitude)")
            }
            if config.pruneStartEpoch != 1 || config.pruneEndEpoch != nil {
                throw GradusError("prune_start_epoch/prune_end_epoch: no pruner is set (set pruner=ID, e.g. pruner=magnitude)")
            }
        }
        if config.normalizer == nil, let (key, value) = config.normalizerSettings.first {
            throw GradusError("normalizer.\(key)=\(value): no normalizer is set (set normalizer=ID, e.g. normalizer=layernorm)")
        }
        if config.pruner != nil, !(config.pruneStartEpoch >= 1 && config.pruneEnd >= config.pruneStartEpoch) {
            throw GradusError("prune_start_epoch=\(config.pruneStartEpoch), prune_end_epoch=\(config.pruneEnd): expected 1 <= start <= end")
        }
    }

    /// The most steps a run may take (the step counter, schedules and checkpoints stay exact).
    static let maxSteps = 1 << 40

    /// Refuses run lengths whose step count overflows, before anything is allocated.
    static func checkRunLength(_ config: TrainConfig, rows: Int) throws {
        let perEpoch = batchesPerEpoch(rows: rows, batchSize: config.stepRows)
        guard Checked.product([perEpoch, config.epochs], limit: maxSteps) != nil else {
            throw GradusError("epochs=\(config.epochs): \(config.epochs) epochs of \(perEpoch) batches exceed the \(maxSteps) steps (2^40) a run may take")
        }
    }

    /// The memory a model of these layer sizes needs (float32 weights, gradients and up to four
    /// optimizer state tensors, plus one batch of activations), refused with the figures when it
    /// exceeds this machine's physical memory, so that a mistyped size is an error, not an abort.
    static func checkModelSize(_ config: TrainConfig, features: Int, image: [Int]?, classes: Int, vocabulary: Int? = nil) throws {
        if config.arch == "transformer", let vocabulary {
            // Embeddings, per block 4 attention and 2 MLP matrices (12·d² weights, 13·d biases) and
            // norms; activations per row and block about 20·d plus heads·T attention weights.
            let (d, t, l) = (config.dModel, features, config.layers)
            let block = Checked.sum([Checked.product([12, d, d]), Checked.product([17, d])])
            let parameters = Checked.sum([Checked.product([2, vocabulary, d]), Checked.product([t, d]), Checked.product([l, block ?? Int.max])])
            let perRow = Checked.sum([Checked.product([20, d]), Checked.product([config.heads, t])])
            let activations = Checked.product([min(config.batchSize, 1 << 20), t, l, perRow ?? Int.max, 4 * 3])
            let physical = Checked.physicalMemory
            guard let p = parameters, let a = activations, let bytes = Checked.sum([Checked.product([p, 4 * 6]), a]), bytes <= physical else {
                throw GradusError("model.layers=\(l), model.d_model=\(d), model.heads=\(config.heads) with a vocabulary of \(vocabulary) and sequences of \(t): the model and a batch of activations need more than this machine's \(physical >> 20) MiB of memory")
            }
            return
        }
        var layers: [Int?] = [], widths: [Int?] = []
        var input = features
        if config.arch == "resnet", let image {
            // The stem, then per stage `blocks` blocks of two 3×3 convolutions (and a 1×1
            // projection where the shape changes), each keeping about four maps of activations.
            var (c, h, w) = (image[0], image[1], image[2])
            let stem = config.channels.first ?? 1
            layers.append(Checked.sum([Checked.product([c, stem, 9]), stem]))
            widths.append(Checked.product([stem, h, w]))
            c = stem
            for (stage, out) in config.channels.enumerated() {
                if stage > 0, h >= 2, w >= 2 { (h, w) = ((h - 1) / 2 + 1, (w - 1) / 2 + 1) }
                let block = Checked.sum([Checked.product([c, out, 9]), Checked.product([out, out, 9]), Checked.product([c, out]), Checked.product([2, out])])
                layers.append(Checked.product([config.blocks, Checked.sum([block, Checked.product([out, out, 9])]) ?? Int.max]))
                widths.append(Checked.product([config.blocks, 4, out, h, w]))
                c = out
            }
            input = c
        } else if config.arch == "lenet", let image {
            var (c, h, w) = (image[0], image[1], image[2])
            for out in config.channels {
                layers.append(Checked.sum([Checked.product([c, out, 9]), out]))
                widths.append(Checked.product([out, h, w]))
                if h >= 2, w >= 2 { (h, w) = (h / 2, w / 2) }
                c = out
            }
            input = Checked.product([c, h, w]) ?? Int.max
        }
        let hidden = config.arch == "resnet" ? [] : config.hidden
        for (a, b) in zip([input] + hidden, hidden + [classes]) {
            layers.append(Checked.sum([Checked.product([a, b]), b]))
            widths.append(b)
        }
        let what = config.arch == "resnet" ? "model.channels=\(config.channels.map(String.init).joined(separator: ",")), model.blocks=\(config.blocks)"
            : config.arch == "lenet" ? "model.channels=\(config.channels.map(String.init).joined(separator: ",")), model.hidden=\(config.hidden.map(String.init).joined(separator: ","))"
            : "model.hidden=\(config.hidden.map(String.init).joined(separator: ","))"
        let physical = Checked.physicalMemory
        guard let parameters = Checked.sum(layers), let activations = Checked.sum(widths), let a = Checked.product([activations, min(config.batchSize, 1 << 20), 4 * 3]),
              let bytes = Checked.sum([Checked.product([parameters, 4 * 6]), a]), bytes <= physical else {
            let params = Checked.sum(layers).map { "\($0) parameters" } ?? "more parameters than can be counted"
            throw GradusError("\(what) with \(features) inputs and \(classes) classes: the model has \(params), which with gradients, optimizer state and a batch of activations needs more than this machine's \(physical >> 20) MiB of memory")
        }
    }

    /// The seeded train/test split, standardised with the training statistics when asked. With
    /// `validation_fraction` > 0 the validation split is carved from the training split and takes
    /// the test split's place (the run never reads the test split), unless `testSplit` asks for the
    /// test split itself (`gradus eval` and the analyses); either way the statistics are those of
    /// the rows the run trains on.
    static func loadData(_ config: TrainConfig, testSplit: Bool = false) throws -> (Dataset, Dataset) {
        let data = try Dataset.load(config.dataset, labels: config.labels)
        var (rawTrain, rawHeldOut) = try data.split(testFraction: config.testFraction, seed: config.seed)
        if config.validationFraction > 0 {
            let (train, validation) = try rawTrain.split(testFraction: config.validationFraction, seed: config.seed, stream: "validation",
                                                         names: ("/train", "/validation"))
            rawTrain = train
            if !testSplit { rawHeldOut = validation }
        }
        switch config.normalize {
        case _ where data.vocabulary != nil:
            return (rawTrain, rawHeldOut)  // token ids are never standardised
        case "standardize":
            let (mean, std) = rawTrain.columnStatistics()
            return (try rawTrain.standardized(mean: mean, std: std), try rawHeldOut.standardized(mean: mean, std: std))
        case "none": return (rawTrain, rawHeldOut)
        default: throw GradusError("normalize='\(config.normalize)': expected 'standardize' or 'none'")
        }
    }

    /// The configured architecture, its normalization slots filled by the normalizer plugin.
    /// `classes` covers every label of both splits (a rare class may be missing from one).
    static func buildModel(_ config: TrainConfig, data: Dataset, classes: Int, registry: PluginRegistry, needsSecondOrder: Bool) throws -> Sequential {
        var normalization: NormalizationFactory?
        if let id = config.normalizer {
            let strategy = try registry.require(id, kind: .normalizer)
            let hp = try HyperparameterSet(schema: strategy.hyperparameters, overrides: config.normalizerSettings, owner: strategy.id)
            normalization = { name, shape, axis in
                try PluginNormalization(strategy: strategy, hyperparameters: hp, name: name, sampleShape: shape,
                                        channelAxis: axis, batchSize: min(config.batchSize, data.count), form: config.normalizerForm,
                                        needsSecondOrder: needsSecondOrder)
            }
        }
        try checkModelSize(config, features: data.featureCount, image: data.imageShape, classes: classes, vocabulary: data.vocabulary)
        switch config.arch {
        case "mlp":
            return try Sequential.mlp([data.featureCount] + config.hidden + [classes], seed: config.seed,
                                      dropout: Float(config.dropout), normalization: normalization)
        case "lenet":
            guard let image = data.imageShape else {
                throw GradusError("model.arch=lenet: dataset '\(data.name)' has \(data.featureCount) features, not images (expected a square number of pixels, or an IDX/NPY file of images)")
            }
            return try Sequential.lenet(image: image, channels: config.channels, hidden: config.hidden, classes: classes,
                                        seed: config.seed, dropout: Float(config.dropout), normalization: normalization)
        case "resnet":
            guard let image = data.imageShape else {
                throw GradusError("model.arch=resnet: dataset '\(data.name)' has \(data.featureCount) features, not images (expected a square number of pixels, or an IDX/NPY file of images)")
            }
            return try Sequential.resnet(image: image, channels: config.channels, blocks: config.blocks, classes: classes, seed: config.seed,
                                         rezero: config.rezero, normalization: normalization)
        case "transformer":
            guard let vocabulary = data.vocabulary else {
                throw GradusError("model.arch=transformer: dataset '\(data.name)' has \(data.featureCount) features, not token sequences (expected a token dataset such as modular_addition)")
            }
            guard config.dModel % config.heads == 0 else {
                throw GradusError("model.d_model=\(config.dModel), model.heads=\(config.heads): d_model must be a multiple of heads")
            }
            let shape = Transformer.Shape(vocabulary: vocabulary, context: data.featureCount, dModel: config.dModel, heads: config.heads, layers: config.layers)
            return Sequential([try Transformer(shape, placement: config.normPlacement, tied: config.tieWeights, lastPositionOnly: true,
                                               seed: config.seed, normalization: normalization)])
        default:
            throw GradusError("model.arch=\(config.arch): expected mlp, lenet, resnet or transformer")
        }
    }

    /// Role selectors for `param_groups.<selector>.<hyperparameter>`.
    static let groupSelectors: [String: Set<ParameterRole>] = [
        "bias": [.bias], "norm": [.normGain, .normBias], "norm_gain": [.normGain], "norm_bias": [.normBias],
        "matrix": [.matrix], "head": [.head], "embedding": [.embedding], "vector": [.vector],
    ]

    /// Splits the parameters into the default group and one group per selector with settings
    /// (a parameter joins the first selector, in configuration order, that matches its role).
    /// Only hyperparameters the plugin marks per-group may differ.
    static func parameterGroups(_ config: TrainConfig, _ parameters: [Parameter], _ strategy: StrategyDescriptor) throws
        -> [(name: String, parameters: [Parameter], overrides: [(String, String)])] {
        var selectors: [String] = []
        var overrides: [String: [(String, String)]] = [:]
        for (selector, id, value) in config.groupSettings {
            guard groupSelectors[selector] != nil else {
                throw GradusError("param_groups.\(selector): unknown selector (expected one of \(groupSelectors.keys.sorted().joined(separator: ", ")))")
            }
            guard let schema = strategy.hyperparameters.first(where: { $0.id == id }) else {
                throw GradusError("param_groups.\(selector).\(id): \(strategy.id) has no hyperparameter '\(id)'")
            }
            guard schema.isPerGroup else {
                throw GradusError("param_groups.\(selector).\(id): \(strategy.id) does not allow '\(id)' to differ between groups")
            }
            if overrides[selector] == nil { selectors.append(selector) }
            overrides[selector, default: []].append((id, value))
        }
        var groups: [(name: String, parameters: [Parameter], overrides: [(String, String)])] = [("default", [], [])]
        groups += selectors.map { ($0, [], overrides[$0]!) }
        for p in parameters {
            let g = selectors.firstIndex { groupSelectors[$0]!.contains(p.role) }.map { $0 + 1 } ?? 0
            groups[g].parameters.append(p)
        }
        return groups.filter { !$0.parameters.isEmpty }
    }

    /// One optimizer session to make: a parameter group of the main optimizer or a route.
    struct GroupPlan {
        let name: String
        let strategy: StrategyDescriptor
        let parameters: [Parameter]
        /// The hyperparameters as text (the main optimizer's settings plus the group's overrides,
        /// or the route's own settings).
        let settings: [(String, String)]
    }

    /// The sessions of a run: the main optimizer's parameter groups (default group first), then one
    /// group per route that takes parameters. A route takes the parameters whose role matches its
    /// selector (the first matching route wins); `param_groups` split what is left. An optimizer that
    /// needs the global view gets all of its parameters in one group.
    static func groupPlans(_ config: TrainConfig, _ parameters: [Parameter], main: StrategyDescriptor, registry: PluginRegistry) throws -> [GroupPlan] {
        let routes = try config.routes.map { r -> StrategyDescriptor in
            guard groupSelectors[r.selector] != nil else {
                throw GradusError("route.\(r.selector): unknown selector (expected one of \(groupSelectors.keys.sorted().joined(separator: ", ")))")
            }
            return try registry.require(r.optimizer, kind: .optimizer)
        }
        var routed = [[Parameter]](repeating: [], count: routes.count), rest: [Parameter] = []
        for p in parameters {
            if let i = config.routes.firstIndex(where: { groupSelectors[$0.selector]!.contains(p.role) }) { routed[i].append(p) } else { rest.append(p) }
        }
        if let i = routed.indices.first(where: { routed[$0].isEmpty }) {
            let taken = config.routes[..<i].first { !groupSelectors[$0.selector]!.isDisjoint(with: groupSelectors[config.routes[i].selector]!) }
            throw GradusError("route.\(config.routes[i].selector)=\(config.routes[i].optimizer): no parameter of this model \(taken.map { "is left for it (route.\($0.selector) takes them first)" } ?? "has that role")")
        }
        _ = try HyperparameterSet(schema: main.hyperparameters, overrides: config.optimizerSettings, owner: main.id)
        // param_groups split what the routes leave to the main optimizer: a selector left with nothing is a mistake.
        for (selector, id, value) in config.groupSettings where !rest.contains(where: { groupSelectors[selector]?.contains($0.role) ?? false }) {
            guard let r = config.routes.first(where: { !groupSelectors[$0.selector]!.isDisjoint(with: groupSelectors[selector] ?? []) }) else { continue }
            throw GradusError("param_groups.\(selector).\(id)=\(value): route.\(r.selector) sends those parameters to \(r.optimizer); set route.\(r.selector).\(id)=\(value) instead")
        }
        let groups = try parameterGroups(config, rest, main)
        if groups.count > 1, main.capabilities & HostCapabilities.globalViewBit != 0 {
            throw GradusError("param_groups: \(main.id) sees all its parameters in one call (global view), so its hyperparameters cannot differ between groups")
        }
        return groups.map { GroupPlan(name: $0.name, strategy: main, parameters: $0.parameters, settings: config.optimizerSettings + $0.overrides) }
            + zip(config.routes, zip(routes, routed)).map { r, sp in GroupPlan(name: "route.\(r.selector)", strategy: sp.0, parameters: sp.1, settings: r.settings) }
    }

    /// A configured schedule, its function plugin found and its arguments kept as text.
    static func schedule(_ s: (hyperparameter: String, function: String, arguments: [(String, String)]), registry: PluginRegistry) throws
        -> ScheduledHyperparameter {
        let function = try registry.require(s.function, kind: .function)
        return ScheduledHyperparameter(hyperparameter: s.hyperparameter, caller: try FunctionCaller(function),
                                       arguments: Dictionary(s.arguments.map { ($0.0, FFIArgument.text($0.1)) }, uniquingKeysWith: { $1 }))
    }
}
