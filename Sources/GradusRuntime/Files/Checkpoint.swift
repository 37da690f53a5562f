import Foundation
import GradusCore
import GradusNN

/// A training checkpoint in one safetensors file: the weights and normalizer buffers under
/// their names (loadable by Python's safetensors), the optimizer's host-managed state under
/// `optimizer/<parameter>/<slot>`, pruning masks under `pruner/<parameter>/mask`, and in the
/// metadata the configuration, position (epochs done, batches into the next, step), the
/// optimizer id and version, and each parameter group's RNG state. Written atomically.
public struct Checkpoint {
    public static let format = "gradus-checkpoint-1"

    public var config: TrainConfig
    /// Epochs completed.
    public var epoch: Int
    /// Batches done in the epoch after `epoch`, and their summed loss (mid-epoch checkpoints).
    public var batchesIntoEpoch: Int
    public var epochLossSum: Double
    /// Training rows consumed in the epoch after `epoch` (nil in files from before it was saved):
    /// with `batchesIntoEpoch` it pins the batch size the position was reached with.
    public var rowsIntoEpoch: Int?
    public var stepCount: Int64
    public var optimizerID: String
    public var optimizerVersion: String
    public var weights: [String: Tensor]
    public var optimizerState: [String: Tensor]
    /// Exact (F64) scalar slots under `optimizer/<parameter>/<slot>`.
    public var optimizerScalars: [String: Double]
    /// Pruning masks under `pruner/<parameter>/mask` (empty when the run does not prune).
    public var masks: [String: Tensor]
    /// The training values of parameters whose optimizer evaluates elsewhere (schedule-free's y),
    /// by parameter name, saved under `train_point/<parameter>`; `weights` holds the evaluation point.
    public var trainingPoint: [String: Tensor] = [:]
    /// Every plugin the run used, id → version.
    public var plugins: [String: String]
    /// The optimizer of each parameter group and route, by group name (empty in files from before routes).
    public var groupOptimizers: [String: String] = [:]
    /// Each parameter group's optimizer RNG state, by group name.
    public var rngStates: [String: (UInt64, UInt64, UInt64, UInt64)]
    /// The pruner's RNG state, when the run prunes.
    public var prunerRNG: (UInt64, UInt64, UInt64, UInt64)?

    /// Captures `trainer` where it stands (after its completed epochs and batches).
    public init(_ trainer: Trainer) {
        config = trainer.config
        epoch = trainer.completedEpochs
        batchesIntoEpoch = trainer.batchesIntoEpoch
        epochLossSum = trainer.epochLossSum
        rowsIntoEpoch = min(trainer.batchesIntoEpoch * trainer.config.stepRows, trainer.train.count)
        stepCount = trainer.optimizer.stepCount
        optimizerID = trainer.mainStrategy.id
        optimizerVersion = trainer.mainStrategy.version
        groupOptimizers = Dictionary(uniqueKeysWithValues: trainer.optimizers.map { ($0.groupName, $0.strategy.id) })
        plugins = trainer.pluginVersions
        weights = Dictionary(uniqueKeysWithValues: trainer.model.parameters.map { ($0.name, $0.value) }
                                                   + trainer.model.buffers.map { ($0.name, $0.value) })
        var state: [String: Tensor] = [:], scalars: [String: Double] = [:]
        for session in trainer.optimizers {
            for (p, param) in session.parameters.enumerated() {
                for (s, slot) in session.slots.enumerated() {
                    let key = "optimizer/\(param.name)/\(slot.name)"
                    if slot.kind == .exactScalar { scalars[key] = session.exact[p][s]; continue }
                    let t = session.state[p][s]
                    state[key] = Tensor(shape: t.shape, scalars: t.values)
                }
            }
        }
        optimizerState = state
        optimizerScalars = scalars
        var m: [String: Tensor] = [:]
        if let pruning = trainer.pruning {
            for (t, mask) in zip(pruning.targets, pruning.masks) { m["pruner/\(t.name)/mask"] = Tensor(shape: mask.shape, scalars: mask.values) }
        }
        masks = m
        rngStates = Dictionary(uniqueKeysWithValues: trainer.optimizers.map { ($0.groupName, $0.rng.stream.state) })
        prunerRNG = trainer.pruning?.rng.stream.state
    }

    /// Writes the checkpoint to `path` atomically.
    public func write(to path: String) throws {
        var metadata: [String: String] = [
            "format": Checkpoint.format,
            "config": try String(decoding: JSONSerialization.data(withJSONObject: TrainConfigParsing.pairs(config).map { [$0.0, $0.1] }), as: UTF8.self),
            "epoch": String(epoch), "batch": String(batchesIntoEpoch), "epoch_loss_sum": "\(epochLossSum)", "step": String(stepCount),
            "epoch_rows": String(rowsIntoEpoch ?? 0),
            "optimizer.id": optimizerID, "optimizer.version": optimizerVersion,
            "optimizer.groups": try String(decoding: JSONSerialization.data(withJSONObject: groupOptimizers, options: .sortedKeys), as: UTF8.self),
            "plugins": try String(decoding: JSONSerialization.data(withJSONObject: plugins, options: .sortedKeys), as: UTF8.self),
        ]
        func words(_ r: (UInt64, UInt64, UInt64, UInt64)) -> String { [r.0, r.1, r.2, r.3].map { String($0) }.joined(separator: ",") }
        for (group, r) in rngStates { metadata["optimizer.rng/" + group] = words(r) }
        if let r = prunerRNG { metadata["pruner.rng"] = words(r) }
        try writeAtomically(SafeTensors.encode(Array(weights) + Array(optimizerState) + Array(masks)
                                                   + trainingPoint.map { ("train_point/" + $0.key, $0.value) },
                                               doubles: optimizerScalars.map { ($0.key, SafeTensors.Doubles(shape: [], values: [$0.value])) },
                                               metadata: metadata), to: path)
    }

    /// Reads a checkpoint; a missing, truncated or foreign file is an error naming it.
    public init(contentsOf path: String) throws {
        let data = try TextFiles.readRegularFile(path, what: "checkpoint")
        let contents = try SafeTensors.decode(data, source: path)
        let (tensors, meta) = (contents.tensors, contents.metadata)
        guard meta["format"] == Checkpoint.format else {
            throw GradusError("\(path): format '\(meta["format"] ?? "none")', expected '\(Checkpoint.format)'")
        }
        func field(_ key: String) throws -> String {
            guard let v = meta[key] else { throw GradusError("\(path): metadata lacks '\(key)'") }
            return v
        }
        guard let pairs = try? JSONSerialization.jsonObject(with: Data(try field("config").utf8)) as? [[String]],
              pairs.allSatisfy({ $0.count == 2 }) else { throw GradusError("\(path): metadata 'config' is malformed") }
        var cfg = TrainConfig()
        cfg.optimizerSettings = []
        do {
            try TrainConfigParsing.apply(pairs.map { ($0[0], $0[1]) }, to: &cfg)
        } catch let error as GradusError {
            throw GradusError("\(path): the saved configuration is invalid: \(error.message)")
        }
        config = cfg
        let (epochText, batchText, stepText, lossText) = (try field("epoch"), try field("batch"), try field("step"), try field("epoch_loss_sum"))
        guard let e = Int(epochText), let b = Int(batchText), let s = Int64(stepText), let l = Double(lossText),
              e >= 0, b >= 0, s >= 0, l.isFinite else {
            throw GradusError("\(path): epoch '\(epochText)', batch '\(batchText)', step '\(stepText)' or epoch_loss_sum '\(lossText)' is not a non-negative number")
        }
        (epoch, batchesIntoEpoch, stepCount, epochLossSum) = (e, b, s, l)
        if let rows = meta["epoch_rows"] {
            guard let r = Int(rows), r >= 0 else { throw GradusError("\(path): epoch_rows '\(rows)' is not a non-negative integer") }
            rowsIntoEpoch = r
        }
        optimizerID = try field("optimizer.id")
        optimizerVersion = try field("optimizer.version")
        if let text = meta["optimizer.groups"] {
            guard let g = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String] else {
                throw GradusError("\(path): metadata 'optimizer.groups' is not an object of group → optimizer id")
            }
            groupOptimizers = g
        }
        guard let p = try? JSONSerialization.jsonObject(with: Data(try field("plugins").utf8)) as? [String: String] else {
            throw GradusError("\(path): metadata 'plugins' is not an object of id → version")
        }
        plugins = p
        func state(_ key: String, _ value: String) throws -> (UInt64, UInt64, UInt64, UInt64) {
            let words = value.split(separator: ",", omittingEmptySubsequences: false).map { UInt64($0) }
            guard words.count == 4, words.allSatisfy({ $0 != nil }) else {
                throw GradusError("\(path): \(key) = '\(value)', expected 4 unsigned 64-bit integers separated by commas")
            }
            return (words[0]!, words[1]!, words[2]!, words[3]!)
        }
        var states: [String: (UInt64, UInt64, UInt64, UInt64)] = [:]
        for (key, value) in meta where key.hasPrefix("optimizer.rng/") {
            states[String(key.dropFirst("optimizer.rng/".count))] = try state(key, value)
        }
        rngStates = states
        prunerRNG = try meta["pruner.rng"].map { try state("pruner.rng", $0) }
        weights = tensors.filter { !$0.key.hasPrefix("optimizer/") && !$0.key.hasPrefix("pruner/") && !$0.key.hasPrefix("train_point/") }
        trainingPoint = Dictionary(uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix("train_point/") }
                                                               .map { (String($0.key.dropFirst("train_point/".count)), $0.value) })
        optimizerState = tensors.filter { $0.key.hasPrefix("optimizer/") }
        var scalars: [String: Double] = [:]
        for (key, d) in contents.doubles {
            guard key.hasPrefix("optimizer/"), d.shape == [], d.values.count == 1 else {
                throw GradusError("\(path): F64 tensor '\(key)' of shape \(d.shape) is not an optimizer's exact scalar")
            }
            scalars[key] = d.values[0]
        }
        optimizerScalars = scalars
        masks = tensors.filter { $0.key.hasPrefix("pruner/") }
    }

    /// Checks that the saved position fits `trainer`'s run: epochs done within `epochs`, the
    /// batch within the epoch, and the step equal to epochs × batches per epoch + batch (a
    /// different batch size or hand-edited metadata breaks that equation).
    func checkPosition(_ trainer: Trainer, source: String) throws {
        let perEpoch = trainer.batchesPerEpoch
        guard epoch <= trainer.config.epochs else {
            throw GradusError("epochs=\(trainer.config.epochs): the checkpoint \(source) has already completed \(epoch) epochs; expected epochs >= \(epoch) to resume it")
        }
        let expected = Checked.sum([Checked.product([epoch, perEpoch]), batchesIntoEpoch])
        let rows = Checked.product([batchesIntoEpoch, trainer.config.stepRows])
        let rowsMatch = rowsIntoEpoch.map { saved in rows.map { saved == min($0, trainer.train.count) } ?? false } ?? true
        guard batchesIntoEpoch <= perEpoch, let expected, Int64(expected) == stepCount, rowsMatch else {
            throw GradusError("\(source): position epoch \(epoch) + \(batchesIntoEpoch) batches does not match step \(stepCount) at \(perEpoch) batches per epoch (batch_size=\(trainer.config.batchSize)\(trainer.config.accumulateSteps > 1 ? " × accumulate_steps=\(trainer.config.accumulateSteps)" : "")); the metadata was edited or the batch size differs from the saved run")
        }
    }

    /// Puts weights, optimizer state, step and RNG back into `trainer` (strict: every name must match).
    public func restore(into trainer: Trainer, source: String = "checkpoint") throws {
        guard trainer.mainStrategy.id == optimizerID else {
            throw GradusError("checkpoint was written by optimizer \(optimizerID), this run uses \(trainer.mainStrategy.id)")
        }
        for session in trainer.optimizers {
            let saved = groupOptimizers[session.groupName] ?? (groupOptimizers.isEmpty ? optimizerID : nil)
            guard saved == session.strategy.id else {
                throw GradusError("checkpoint's parameter group '\(session.groupName)' was stepped by \(saved ?? "no optimizer (the group did not exist)"), this run uses \(session.strategy.id)")
            }
        }
        try checkPosition(trainer, source: source)
        for session in trainer.optimizers where rngStates[session.groupName] == nil {
            throw GradusError("checkpoint lacks the RNG state of parameter group '\(session.groupName)'")
        }
        try checkWeights(of: trainer.model)
        var saved: [[[SlotValue]]] = []
        for session in trainer.optimizers {
            saved.append(try session.parameters.enumerated().map { p, param in
                try session.slots.enumerated().map { s, slot -> SlotValue in
                    let key = "optimizer/\(param.name)/\(slot.name)"
                    if slot.kind == .exactScalar {
                        guard let d = optimizerScalars[key] else { throw GradusError("checkpoint lacks the exact (F64) optimizer state '\(key)'") }
                        return .exact(d)
                    }
                    guard let t = optimizerState[key] else { throw GradusError("checkpoint lacks optimizer state '\(key)'") }
                    let want = session.state[p][s].shape
                    guard t.shape == want else { throw GradusError("checkpoint optimizer state '\(key)' has shape \(t.shape), this run's has \(want)") }
                    return .floats(t.scalars)
                }
            })
        }
        try restoreWeights(into: trainer.model)
        // Parameters of an optimizer with an evaluation point resume from their training values.
        for session in trainer.optimizers where session.hasEvalPoint {
            for p in session.parameters {
                guard let t = trainingPoint[p.name], t.shape == p.value.shape else {
                    throw GradusError("checkpoint lacks the training values 'train_point/\(p.name)' that \(session.strategy.id) resumes from")
                }
                p.value.values = t.scalars
            }
        }
        for (session, state) in zip(trainer.optimizers, saved) {
            try session.restore(stepCount: stepCount, state: state)
            session.rng.stream = RandomStream(state: rngStates[session.groupName]!)
        }
        if let pruning = trainer.pruning {
            guard let r = prunerRNG else { throw GradusError("checkpoint lacks the pruner's RNG state") }
            pruning.rng.stream = RandomStream(state: r)
            for (t, mask) in zip(pruning.targets, pruning.masks) {
                guard let m = masks["pruner/\(t.name)/mask"], m.count == mask.count else {
                    throw GradusError("checkpoint lacks the pruning mask of \(t.name)")
                }
                mask.values = m.scalars
            }
        }
        for (id, version) in trainer.pluginVersions.sorted(by: { $0.key < $1.key }) where plugins[id].map({ $0 != version }) ?? false {
            HostLog.shared.write("gradus: warning: checkpoint was written with \(id) \(plugins[id]!), this run loads \(version)")
        }
        trainer.completedEpochs = epoch
        trainer.batchesIntoEpoch = batchesIntoEpoch
        trainer.epochLossSum = epochLossSum
        trainer.resumed(from: source, epoch: epoch, step: stepCount)
    }

    /// Copies the saved weights and buffers into `model` (for evaluation: no optimizer needed).
    public func restoreWeights(into model: Sequential) throws {
        try checkWeights(of: model)
        for (name, _, storage) in Checkpoint.named(model) { weights[name]!.copy(to: storage.pointer) }
    }

    /// Every parameter and buffer of `model` is in the checkpoint with its shape (nothing is changed).
    func checkWeights(of model: Sequential) throws {
        for (name, shape, _) in Checkpoint.named(model) {
            guard let w = weights[name] else { throw GradusError("checkpoint lacks weights for \(name)") }
            guard w.shape == shape else { throw GradusError("checkpoint has \(name) with shape \(w.shape), the model has \(shape)") }
        }
    }

    static func named(_ model: Sequential) -> [(String, [Int], TensorStorage)] {
        model.parameters.map { ($0.name, $0.shape, $0.storage) } + model.buffers.map { ($0.name, $0.shape, $0.storage) }
    }
}
