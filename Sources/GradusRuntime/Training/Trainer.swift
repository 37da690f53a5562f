import CGradusABI
import Foundation
import GradusCore
import GradusNN

/// Trains a model on a dataset with optimizer plugins (one session per parameter group), step
/// by step through the C ABI, with optional normalizer and pruner plugins.
public final class Trainer {
    public let config: TrainConfig
    public let train: Dataset
    public let test: Dataset
    public let model: Sequential
    /// One optimizer session per parameter group, the default group first.
    public let optimizers: [OptimizerSession]
    /// The first group's session (the only one without `param_groups` settings or routes); every
    /// session steps together, so its step count is the run's.
    public var optimizer: OptimizerSession { optimizers[0] }
    /// The main optimizer (`optimizer=`); routes may send some parameters to others.
    public let mainStrategy: StrategyDescriptor
    /// "gradus.adamw", or with routes "gradus.adamw + gradus.muon (route.matrix)".
    public var optimizerSummary: String {
        ([mainStrategy.id] + optimizers.filter { $0.groupName.hasPrefix("route.") }.map { "\($0.strategy.id) (\($0.groupName))" })
            .joined(separator: " + ")
    }
    /// Masks for the prunable weights when the run prunes.
    public let pruning: PruningSession?
    private let finalSparsity: Double
    private let groups: [[Parameter]]
    /// Every parameter in model order, sharing storage with the model.
    private let hostParameters: [HostParameter]
    private let schedules: [ScheduleRunner]
    /// Whether the optimizer reads layer activations (forward hooks record them each step).
    private let needsActivations: Bool
    /// Epochs finished so far (set by a restored checkpoint); `run` continues after them.
    public var completedEpochs = 0
    /// Batches already done in the epoch after `completedEpochs`, and their summed loss
    /// (a checkpoint written mid-epoch resumes from there).
    public var batchesIntoEpoch = 0
    public var epochLossSum = 0.0
    /// When set, a checkpoint is written here (atomically) after every epoch, and every
    /// `config.checkpointEvery` steps; never with non-finite weights or state.
    public var checkpoint: CheckpointDestination?
    /// The last checkpoint this run wrote or resumed from: (epochs done, step).
    public private(set) var lastCheckpoint: (epoch: Int, step: Int64)?
    /// Polled after every batch: a non-zero signal number (SIGINT, SIGTERM) stops the run after
    /// writing a checkpoint of the position reached (see `TrainingInterrupted`).
    public var interruption: (() -> Int32)?
    /// Called after every batch: (epoch, batches done, batches per epoch, batch loss).
    public var onBatch: ((Int, Int, Int, Double) throws -> Void)?

    /// Every plugin this run uses, id → version (saved in checkpoints).
    public var pluginVersions: [String: String] {
        var v = [mainStrategy.id: mainStrategy.version]
        for session in optimizers { v[session.strategy.id] = session.strategy.version }
        if let pruning { v[pruning.strategy.id] = pruning.strategy.version }
        for layer in model.descendants.compactMap({ $0 as? PluginNormalization }) { v[layer.session.strategy.id] = layer.session.strategy.version }
        for s in schedules.first?.schedules ?? [] { v[s.caller.id] = s.caller.version }
        return v
    }

    /// Optimizer steps per epoch (each consumes `config.stepRows` rows, the last one what is left).
    public var batchesPerEpoch: Int { Trainer.batchesPerEpoch(rows: train.count, batchSize: config.stepRows) }
    /// The run's length in steps (checked not to overflow when the trainer is made).
    public var totalSteps: Int { batchesPerEpoch * config.epochs }

    static func batchesPerEpoch(rows: Int, batchSize: Int) -> Int { rows / batchSize + (rows % batchSize == 0 ? 0 : 1) }

    /// A run on the configured dataset (`config.dataset`, split and normalised as configured).
    public convenience init(config: TrainConfig, registry: PluginRegistry) throws {
        try Trainer.validate(config)
        let (train, test) = try Trainer.loadData(config)
        try self.init(config: config, train: train, test: test, registry: registry)
    }

    /// A run on datasets already in memory (`config.dataset` and the split settings are not used).
    public init(config: TrainConfig, train: Dataset, test: Dataset, registry: PluginRegistry) throws {
        try Trainer.validate(config)
        self.config = config
        (self.train, self.test) = (train, test)
        try Trainer.checkRunLength(config, rows: train.count)
        let strategy = try registry.require(config.optimizer, kind: .optimizer)
        mainStrategy = strategy
        let used = [strategy] + (try config.routes.map { try registry.require($0.optimizer, kind: .optimizer) })
        let hvpUser = used.first { $0.capabilities & UInt64(GRADUS_CAP_NEEDS_HVP) != 0 }
        let needsHVP = hvpUser != nil
        needsActivations = used.contains { $0.capabilities & UInt64(GRADUS_CAP_NEEDS_ACTIVATIONS) != 0 }
        if config.accumulateSteps > 1, let s = used.first(where: { $0.capabilities & UInt64(GRADUS_CAP_NEEDS_ACTIVATIONS) != 0 }) {
            throw GradusError("accumulate_steps=\(config.accumulateSteps): \(s.id) reads layer activations, which exist per micro-batch; use accumulate_steps=1 with it")
        }
        guard train.featureCount == test.featureCount else {
            throw GradusError("train data has \(train.featureCount) features, test data \(test.featureCount)")
        }
        model = try Trainer.buildModel(config, data: train, classes: max(train.classes, test.classes), registry: registry,
                                       needsSecondOrder: needsHVP)
        let host = model.parameters.map {
            HostParameter(name: $0.name, role: $0.role, shape: $0.shape, storage: $0.storage)
        }
        hostParameters = host
        let byName = Dictionary(uniqueKeysWithValues: host.map { ($0.name, $0) })
        let plan = try Trainer.groupPlans(config, model.parameters, main: strategy, registry: registry)
        groups = plan.map(\.parameters)
        var sessions: [OptimizerSession] = [], runners: [ScheduleRunner] = []
        let scheduled = try config.schedules.map { try Trainer.schedule($0, registry: registry) }
        for group in plan {
            let s = group.strategy
            let hp = try HyperparameterSet(schema: s.hyperparameters, overrides: group.settings, owner: s.id)
            let session = try OptimizerSession(strategy: s, hyperparameters: hp, parameters: group.parameters.map { byName[$0.name]! },
                                               groupName: group.name, seed: config.seed, available: HostCapabilities.trainingRun)
            sessions.append(session)
            // A schedule drives its hyperparameter in every optimizer of the run that has it (each from
            // its own configured base); the main optimizer must have it.
            let own = s.id == strategy.id ? scheduled : scheduled.filter { sch in s.hyperparameters.contains { $0.id == sch.hyperparameter && $0.isSchedulable } }
            runners.append(try ScheduleRunner(own, hyperparameters: hp, owner: s.id))
        }
        if !plan.contains(where: { $0.strategy.id == strategy.id }) {
            _ = try ScheduleRunner(scheduled, hyperparameters: HyperparameterSet(schema: strategy.hyperparameters, overrides: config.optimizerSettings, owner: strategy.id), owner: strategy.id)
        }
        optimizers = sessions
        schedules = runners
        if needsHVP, let layer = model.descendants.compactMap({ $0 as? PluginNormalization }).first(where: \.firstOrderOnly) {
            throw GradusError("\((hvpUser ?? strategy).id) needs Hessian-vector products, but normalizer \(layer.session.strategy.id) runs in its kernel form (first-order gradients); use its graph form (normalizer_form=graph)")
        }
        if let prunerID = config.pruner {
            let p = try registry.require(prunerID, kind: .pruner)
            let php = try HyperparameterSet(schema: p.hyperparameters, overrides: config.prunerSettings, owner: p.id)
            let targets = model.parameters.filter(\.prunable).map { byName[$0.name]! }
            pruning = try PruningSession(strategy: p, hyperparameters: php, targets: targets, seed: config.seed)
            finalSparsity = php["sparsity"]?.numeric ?? 0
        } else {
            pruning = nil
            finalSparsity = 0
        }
    }

    /// Runs the remaining epochs, calling `emit` after each; returns the last epoch's metrics.
    /// Each epoch's shuffle depends only on the seed and the epoch number, and each step's
    /// dropout masks only on the seed and the step, so a run resumed from a checkpoint (at an
    /// epoch boundary or mid-epoch) is bit-identical to one that never stopped.
    @discardableResult
    public func run(emit: (EpochMetrics) -> Void = { _ in }) throws -> EpochMetrics? {
        var last: EpochMetrics?
        for epoch in stride(from: completedEpochs + 1, through: config.epochs, by: 1) {
            let start = Date()
            var trainSeconds = 0.0
            var rng = RandomStream(seed: config.seed, stream: "shuffle/\(epoch)")
            let order = Dataset.permutation(train.count, &rng)
            for b in batchesIntoEpoch..<batchesPerEpoch {
                let first = b * config.stepRows  // < order.count, so neither this nor the end overflows
                let batch = order[first..<(first + min(config.stepRows, order.count - first))]
                let stepStart = Date()
                let loss = try step(batch)
                trainSeconds += Date().timeIntervalSince(stepStart)
                epochLossSum += loss * Double(batch.count)
                batchesIntoEpoch = b + 1
                try onBatch?(epoch, b + 1, batchesPerEpoch, loss)
                // On an epoch's last batch the epoch is finished first (pruning sees that batch's
                // gradient, as in a run that never stopped); the interruption is honoured after it.
                if b + 1 < batchesPerEpoch, let signal = interruption?(), signal != 0 {
                    try writeCheckpoint()
                    throw TrainingInterrupted(signal: signal, epoch: epoch, batch: b + 1, batchesPerEpoch: batchesPerEpoch,
                                              step: optimizer.stepCount, checkpoint: checkpoint?.path)
                }
                if config.checkpointEvery > 0, b + 1 < batchesPerEpoch, optimizer.stepCount % Int64(config.checkpointEvery) == 0 {
                    try writeCheckpoint()
                }
            }
            try pruneIfScheduled(after: epoch)
            let (testLoss, accuracy) = try evaluate(test)
            let m = EpochMetrics(epoch: epoch, step: optimizer.stepCount, trainLoss: epochLossSum / Double(train.count), testLoss: testLoss,
                                 testAccuracy: accuracy, split: config.validationFraction > 0 ? "val" : "test", trainSeconds: trainSeconds,
                                 seconds: Date().timeIntervalSince(start), sparsity: pruning?.sparsity)
            completedEpochs = epoch
            batchesIntoEpoch = 0
            epochLossSum = 0
            try writeCheckpoint()
            emit(m)
            last = m
            if epoch < config.epochs, let signal = interruption?(), signal != 0 {
                throw TrainingInterrupted(signal: signal, epoch: epoch + 1, batch: 0, batchesPerEpoch: batchesPerEpoch,
                                          step: optimizer.stepCount, checkpoint: checkpoint?.path)
            }
        }
        return last
    }

    /// One optimizer step (every group) on the rows `batch` of the training set; returns the batch
    /// loss. With accumulate_steps > 1 the rows are taken in micro-batches of batch_size whose
    /// gradients are averaged, weighted by their rows, before the optimizers step.
    public func step(_ batch: ArraySlice<Int>) throws -> Double {
        let index = Int(optimizer.stepCount)
        for s in schedules { try s.apply(step: index, totalSteps: totalSteps) }
        let rng = RandomStream(seed: config.seed, stream: "dropout/\(index)")
        let chunks = stride(from: batch.startIndex, to: batch.endIndex, by: config.batchSize).map { batch[$0..<min($0 + config.batchSize, batch.endIndex)] }
        var lossSum = 0.0, value = 0.0
        var activations: [String: [Tensor]] = [:]
        var lastInputs: (Tensor, [Int])?
        for (c, chunk) in chunks.enumerated() {
            let (x, y) = train.batch(chunk)
            let bindings = ParameterBindings(model.parameters)
            bindings.rng = c == 0 ? rng : RandomStream(seed: config.seed, stream: "dropout/\(index).\(c)")
            bindings.recordsActivations = needsActivations
            let loss = crossEntropy(logits: try model.forward(Variable(x), bindings, mode: .train), labels: y)
            value = Double(loss.value.scalar)
            guard value.isFinite else {
                throw GradusError("training diverged: the loss is \(value) at step \(index + 1); lower the learning rate\(lastGoodCheckpointNote)")
            }
            let outputs = bindings.activations.map(\.output)
            let grads = try Autodiff.checkedGradients(of: loss, wrt: bindings.variables + outputs)
            if chunks.count == 1 {
                for (hp, g) in zip(hostParameters, grads) where !g.value.copyCheckingFinite(to: hp.grad.backing.pointer) {
                    throw nonFiniteGradient(hp.name, step: index + 1, loss: value)
                }
                for (a, g) in zip(bindings.activations, grads.dropFirst(hostParameters.count)) {
                    activations[a.module] = [a.input.value, a.output.value, g.value]
                }
                lastInputs = (x, y)
            } else {
                let weight = Float(Double(chunk.count) / Double(batch.count))
                for (hp, g) in zip(hostParameters, grads) {
                    let source = g.value.scalars, target = hp.grad.backing.pointer
                    guard source.allSatisfy(\.isFinite) else { throw nonFiniteGradient(hp.name, step: index + 1, loss: value) }
                    for i in source.indices { target[i] = c == 0 ? weight * source[i] : target[i] + weight * source[i] }
                }
                lossSum += value * Double(chunk.count)
            }
        }
        if chunks.count > 1 { value = lossSum / Double(batch.count) }
        pruning?.applyToGradients()
        if config.clipGradNorm > 0 { Trainer.clipGradients(hostParameters, to: config.clipGradNorm) }
        let (x, y) = lastInputs ?? train.batch(batch)
        for (session, group) in zip(optimizers, groups) {
            try session.step(loss: value, run: TrainingRunContext(model: model, group: group, x: x, labels: y, loss: value, rng: rng,
                                                                  activations: activations))
        }
        if let pruning {
            pruning.applyToWeights()            // decay and momentum would otherwise resurrect pruned weights
            for session in optimizers { pruning.applyToState(of: session) }
        }
        return value
    }

    func nonFiniteGradient(_ name: String, step: Int, loss: Double) -> GradusError {
        GradusError("step \(step): the gradient of \(name) is not finite (NaN or Inf) with a finite loss \(loss); lower the learning rate or check the data\(lastGoodCheckpointNote)")
    }

    /// torch.nn.utils.clip_grad_norm_: every gradient times min(1, τ/(N + 1e-6)), N the 2-norm of all
    /// gradients together (summed in double in parameter order, so it does not depend on threads).
    /// Returns N.
    @discardableResult
    static func clipGradients(_ parameters: [HostParameter], to maxNorm: Double) -> Float {
        var sum = 0.0
        for p in parameters {
            let g = p.grad.backing.pointer
            for i in 0..<p.grad.count { sum += Double(g[i]) * Double(g[i]) }
        }
        let norm = Float(sum.squareRoot()), coefficient = min(Float(maxNorm) / (norm + 1e-6), 1)
        if coefficient < 1 {
            for p in parameters {
                let g = p.grad.backing.pointer
                for i in 0..<p.grad.count { g[i] *= coefficient }
            }
        }
        return norm
    }

    /// Writes the checkpoint when the run has one, refusing a diverged state: the file keeps the
    /// last good one and the error says which it is.
    func writeCheckpoint() throws {
        guard let checkpoint else { return }
        if let bad = firstNonFinite() {
            throw GradusError("training diverged: \(bad) is not finite at step \(optimizer.stepCount); not writing it to \(checkpoint.path)\(lastGoodCheckpointNote)")
        }
        // Weights are saved at the evaluation point (what `gradus eval` and inference use); the
        // training values of optimizers that evaluate elsewhere are saved too, to resume exactly.
        let training = optimizers.filter(\.hasEvalPoint).flatMap(\.parameters).map { ($0.name, Tensor(shape: $0.value.shape, scalars: $0.value.values)) }
        var saved = try atEvaluationPoint {
            if !training.isEmpty, let p = model.parameters.first(where: { !$0.value.isFinite }) {
                throw GradusError("training diverged: the evaluation point of \(p.name) is not finite at step \(optimizer.stepCount); not writing it to \(checkpoint.path)\(lastGoodCheckpointNote)")
            }
            var c = Checkpoint(self)
            // The weights share the model's storage: copy the evaluation point before it is put back.
            if !training.isEmpty { c.weights = c.weights.mapValues { Tensor(shape: $0.shape, scalars: $0.scalars) } }
            return c
        }
        saved.trainingPoint = Dictionary(uniqueKeysWithValues: training)
        try checkpoint.write(saved)
        lastCheckpoint = (completedEpochs, optimizer.stepCount)
        HostSignals.setCrashNote("the last completed checkpoint is \(checkpoint.path) (\(positionText(completedEpochs, optimizer.stepCount)))")
    }

    /// Marks the position a restored checkpoint holds as the last good one, when the run writes
    /// its checkpoints to that same file (another file's position says nothing about this one).
    func resumed(from path: String, epoch: Int, step: Int64) {
        guard let destination = checkpoint?.path else { return }
        var a = stat(), b = stat()
        guard stat(path, &a) == 0, stat(destination, &b) == 0, a.st_dev == b.st_dev, a.st_ino == b.st_ino else { return }
        lastCheckpoint = (epoch, step)
        HostSignals.setCrashNote("the last completed checkpoint is \(destination) (\(positionText(epoch, step)))")
    }

    private func positionText(_ epoch: Int, _ step: Int64) -> String {
        let batch = Int(step) - epoch * batchesPerEpoch
        return batch > 0 ? "epoch \(epoch) + \(batch) batches, step \(step)" : "epoch \(epoch), step \(step)"
    }

    /// "; the last good checkpoint is …" for error messages about divergence.
    var lastGoodCheckpointNote: String {
        guard let checkpoint else { return "" }
        guard let last = lastCheckpoint else { return "; no checkpoint was written yet" }
        return "; the last good checkpoint is \(checkpoint.path) (\(positionText(last.epoch, last.step)))"
    }

    /// The first parameter, buffer or optimizer state entry that holds NaN or Inf, named.
    func firstNonFinite() -> String? {
        for p in model.parameters where !p.value.isFinite { return "parameter \(p.name)" }
        for b in model.buffers where !b.value.isFinite { return "buffer \(b.name)" }
        for session in optimizers {
            for ((p, row), scalars) in zip(zip(session.parameters, session.state), session.exact) {
                for (slot, t) in zip(session.slots, row) where !Tensor(shape: t.shape, storage: t.backing).isFinite { return "optimizer state \(p.name)/\(slot.name)" }
                for (s, slot) in session.slots.enumerated() where slot.kind == .exactScalar && !scalars[s].isFinite {
                    return "optimizer state \(p.name)/\(slot.name)"
                }
            }
        }
        return nil
    }

    /// Gradual magnitude pruning (Zhu & Gupta): at the end of epoch e in [start, end] the target is
    /// s_f·(1 − (1 − k/n)³), k = e − start + 1, n = end − start + 1, reaching s_f at `end`.
    func pruneIfScheduled(after epoch: Int) throws {
        guard let pruning, epoch >= config.pruneStartEpoch, epoch <= config.pruneEnd else { return }
        let k = Double(epoch - config.pruneStartEpoch + 1), n = Double(config.pruneEnd - config.pruneStartEpoch + 1)
        let target = finalSparsity * (1 - Glibc.pow(1 - k / n, 3))
        if let i = pruning.hyperparameters.index(of: "sparsity") { try pruning.hyperparameters.set(i, .real(target)) }
        try pruning.prune(step: optimizer.stepCount, totalSteps: Int64(totalSteps))
        for session in optimizers { pruning.applyToState(of: session) }
    }

    /// Mean loss and accuracy on `data` in eval mode, without recording (chunks of 512 rows), at
    /// the optimizers' evaluation point (schedule-free's x; the parameters otherwise).
    public func evaluate(_ data: Dataset) throws -> (loss: Double, accuracy: Double) {
        try atEvaluationPoint { try Trainer.evaluate(model, on: data) }
    }

    /// Runs `body` with every optimizer's parameters at its evaluation point, then restores the
    /// training values exactly.
    public func atEvaluationPoint<R>(_ body: () throws -> R) throws -> R {
        func nest(_ i: Int) throws -> R { i == optimizers.count ? try body() : try optimizers[i].atEvaluationPoint { try nest(i + 1) } }
        return try nest(0)
    }

    /// The test split and the model of `config`, without optimizer, pruner or schedules (what
    /// `gradus eval` needs: a forward pass only).
    public static func evaluationSetup(config: TrainConfig, registry: PluginRegistry) throws -> (model: Sequential, test: Dataset) {
        try validate(config)
        let (train, test) = try loadData(config, testSplit: true)
        let model = try buildModel(config, data: train, classes: max(train.classes, test.classes), registry: registry, needsSecondOrder: false)
        return (model, test)
    }

    /// Rows evaluated per forward pass (evaluation and the analyses use the same chunks, so their
    /// losses agree to the bit).
    public static let evaluationChunkRows = 512

    /// Rows whose largest logit (the first on ties) is the label.
    static func correctPredictions(_ logits: Tensor, _ labels: [Int]) -> Int {
        let c = logits.shape[1]
        return logits.withUnsafeBuffer { z in
            var n = 0
            for (i, label) in labels.enumerated() {
                var best = 0
                for j in 1..<c where z[i * c + j] > z[i * c + best] { best = j }
                if best == label { n += 1 }
            }
            return n
        }
    }

    /// Mean loss and accuracy of `model` on `data` in eval mode, without recording.
    public static func evaluate(_ model: Sequential, on data: Dataset) throws -> (loss: Double, accuracy: Double) {
        try GradMode.with(recording: false) {
            var lossSum = 0.0, correct = 0
            for start in stride(from: 0, to: data.count, by: evaluationChunkRows) {
                let rows = Array(start..<min(start + evaluationChunkRows, data.count))[...]
                let (x, labels) = data.batch(rows)
                let logits = try model.forward(Variable(x), ParameterBindings(model.parameters), mode: .eval)
                lossSum += Double(crossEntropy(logits: logits, labels: labels).value.scalar) * Double(rows.count)
                correct += correctPredictions(logits.value, labels)
            }
            return (lossSum / Double(data.count), Double(correct) / Double(data.count))
        }
    }
}
