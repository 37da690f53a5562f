import Foundation
import GradusCore

/// A training checkpoint in one safetensors file: the weights under their parameter names
/// (loadable by Python's safetensors), the optimizer's host-managed state under
/// `optimizer/<parameter>/<slot>`, and in the metadata the configuration, epoch, step,
/// optimizer id and version, and the optimizer's RNG state. Written atomically.
public struct Checkpoint {
    public static let format = "gradus-checkpoint-1"

    public var config: TrainConfig
    /// Epochs completed.
    public var epoch: Int
    public var stepCount: Int64
    public var optimizerID: String
    public var optimizerVersion: String
    public var weights: [String: Tensor]
    public var optimizerState: [String: Tensor]
    /// Pruning masks under `pruner/<parameter>/mask` (empty when the run does not prune).
    public var masks: [String: Tensor]
    public var rngState: (UInt64, UInt64, UInt64, UInt64)

    /// Captures `trainer` after `epoch` epochs.
    public init(_ trainer: Trainer, epoch: Int) {
        config = trainer.config
        self.epoch = epoch
        stepCount = trainer.optimizer.stepCount
        optimizerID = trainer.optimizer.strategy.id
        optimizerVersion = trainer.optimizer.strategy.version
        weights = Dictionary(uniqueKeysWithValues: trainer.model.parameters.map { ($0.name, $0.value) })
        var state: [String: Tensor] = [:]
        for (p, param) in trainer.optimizer.parameters.enumerated() {
            for (s, slot) in trainer.optimizer.slots.enumerated() {
                let t = trainer.optimizer.state[p][s]
                state["optimizer/\(param.name)/\(slot.name)"] = Tensor(shape: t.shape, scalars: t.values)
            }
        }
        optimizerState = state
        var m: [String: Tensor] = [:]
        if let pruning = trainer.pruning {
            for (t, mask) in zip(pruning.targets, pruning.masks) { m["pruner/\(t.name)/mask"] = Tensor(shape: mask.shape, scalars: mask.values) }
        }
        masks = m
        rngState = trainer.optimizer.rng.stream.state
    }

    /// Writes the checkpoint to `path` atomically.
    public func write(to path: String) throws {
        let r = rngState
        let metadata: [String: String] = [
            "format": Checkpoint.format,
            "config": try String(decoding: JSONSerialization.data(withJSONObject: TrainConfigParsing.pairs(config).map { [$0.0, $0.1] }), as: UTF8.self),
            "epoch": String(epoch), "step": String(stepCount),
            "optimizer.id": optimizerID, "optimizer.version": optimizerVersion,
            "optimizer.rng": [r.0, r.1, r.2, r.3].map { String($0) }.joined(separator: ","),
        ]
        try writeAtomically(SafeTensors.encode(Array(weights) + Array(optimizerState) + Array(masks), metadata: metadata), to: path)
    }

    /// Reads a checkpoint; a missing, truncated or foreign file is an error naming it.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw GradusError("\(path): cannot read the checkpoint") }
        let (tensors, meta) = try SafeTensors.decode(data, source: path)
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
        try TrainConfigParsing.apply(pairs.map { ($0[0], $0[1]) }, to: &cfg)
        config = cfg
        guard let e = Int(try field("epoch")), let s = Int64(try field("step")) else { throw GradusError("\(path): epoch or step is not an integer") }
        epoch = e
        stepCount = s
        optimizerID = try field("optimizer.id")
        optimizerVersion = try field("optimizer.version")
        let words = try field("optimizer.rng").split(separator: ",").compactMap { UInt64($0) }
        guard words.count == 4 else { throw GradusError("\(path): optimizer.rng should hold 4 integers") }
        rngState = (words[0], words[1], words[2], words[3])
        weights = tensors.filter { !$0.key.hasPrefix("optimizer/") && !$0.key.hasPrefix("pruner/") }
        optimizerState = tensors.filter { $0.key.hasPrefix("optimizer/") }
        masks = tensors.filter { $0.key.hasPrefix("pruner/") }
    }

    /// Puts weights, optimizer state, step and RNG back into `trainer` (strict: every name must match).
    public func restore(into trainer: Trainer) throws {
        guard trainer.optimizer.strategy.id == optimizerID else {
            throw GradusError("checkpoint was written by optimizer \(optimizerID), this run uses \(trainer.optimizer.strategy.id)")
        }
        for p in trainer.model.parameters {
            guard let w = weights[p.name] else { throw GradusError("checkpoint lacks weights for \(p.name)") }
            guard w.shape == p.shape else { throw GradusError("checkpoint has \(p.name) with shape \(w.shape), the model has \(p.shape)") }
            w.copy(to: p.storage.pointer)
        }
        var saved: [[[Float]]] = []
        for param in trainer.optimizer.parameters {
            saved.append(try trainer.optimizer.slots.map { slot in
                let key = "optimizer/\(param.name)/\(slot.name)"
                guard let t = optimizerState[key] else { throw GradusError("checkpoint lacks optimizer state '\(key)'") }
                return t.scalars
            })
        }
        try trainer.optimizer.restore(stepCount: stepCount, state: saved)
        if let pruning = trainer.pruning {
            for (t, mask) in zip(pruning.targets, pruning.masks) {
                guard let m = masks["pruner/\(t.name)/mask"], m.count == mask.count else {
                    throw GradusError("checkpoint lacks the pruning mask of \(t.name)")
                }
                mask.values = m.scalars
            }
        }
        trainer.optimizer.rng.stream = RandomStream(state: rngState)
        trainer.completedEpochs = epoch
    }
}
