import CGradusABI
import Foundation
import GradusCore

/// One pruner plugin instance over a set of prunable parameters. The host owns the
/// masks, does the ranking the plugin asks for (stable on (score, flat index), lowest
/// pruned first, round-half-to-even of s·n like torch.nn.utils.prune), keeps pruned
/// entries pruned, and applies masks to weights, gradients and optimizer state.
public final class PruningSession {
    public let strategy: StrategyDescriptor
    public let hyperparameters: HyperparameterSet
    public let targets: [HostParameter]
    /// One 0/1 mask per target.
    public let masks: [HostTensor]
    private let scores: [HostTensor]
    private let vtable: gradus_pruner_vtable
    private let instance: UnsafeMutableRawPointer
    private let cTargets: UnsafeMutablePointer<gradus_prune_target>
    private let cNames: [UnsafeMutablePointer<CChar>]
    public let rng: HostRandomStream

    public init(strategy: StrategyDescriptor, hyperparameters: HyperparameterSet, targets: [HostParameter], seed: UInt64 = 0) throws {
        guard case .pruner(let v) = strategy.vtable else {
            throw GradusError("'\(strategy.id)' is a \(strategy.kind.rawValue), not a pruner")
        }
        try HostCapabilities.require(strategy, available: HostCapabilities.traceRun)
        self.strategy = strategy
        self.hyperparameters = hyperparameters
        self.targets = targets
        vtable = v
        rng = HostRandomStream(RandomStream(seed: seed, stream: strategy.id))
        masks = targets.map { HostTensor(shape: $0.value.shape, repeating: 1) }
        scores = targets.map { HostTensor(shape: $0.value.shape) }
        instance = try PluginCall.create(strategy.id) { v.create!(strategy.raw, HostServices.table, hyperparameters.pointer, $0) }
        cNames = targets.map { strdup($0.name)! }
        cTargets = .allocate(capacity: max(1, targets.count))
        for (i, t) in targets.enumerated() {
            var c = gradus_prune_target()
            ABIWrite.header(&c)
            c.name = UnsafePointer(cNames[i])
            c.role = t.role.rawValue
            c.weight = UnsafePointer(t.value.view)
            c.grad = UnsafePointer(t.grad.view)
            c.mask = masks[i].view
            c.scores = scores[i].view
            (cTargets + i).initialize(to: c)
        }
    }

    deinit {
        PluginCall.during(strategy.id, "destroy") { vtable.destroy!(instance) }
        cTargets.deallocate()
        cNames.forEach { free($0) }
    }

    /// Asks the plugin for scores (or masks) and updates the masks; then zeroes the masked weights.
    public func prune(step: Int64 = 0, totalSteps: Int64 = 0) throws {
        var ctx = gradus_prune_context()
        ABIWrite.header(&ctx)
        ctx.step = step
        ctx.total_steps = totalSteps
        ctx.services = HostServices.table
        ctx.rng = rng.handle
        ctx.hyperparameters = hyperparameters.pointer
        if let score = vtable.score {
            var plan = gradus_prune_plan()
            ABIWrite.header(&plan)
            try PluginCall.check(strategy.id, "score") { score(instance, &ctx, cTargets, UInt32(targets.count), &plan) }
            guard plan.skip == 0 else { return }
            guard plan.sparsity.isFinite, (0...1).contains(plan.sparsity) else {
                throw GradusError("\(strategy.id): asked for sparsity \(plan.sparsity), expected a value in [0, 1]")
            }
            for (i, s) in scores.enumerated() {
                if let bad = s.storage.firstIndex(where: { $0.isNaN }) {
                    throw GradusError("\(strategy.id): score of \(targets[i].name)[\(bad)] is NaN")
                }
            }
            switch plan.scope {
            case GRADUS_PRUNE_SCOPE_LAYER:
                for i in targets.indices { PruningSession.rankAndMask([(scores[i], masks[i])], sparsity: plan.sparsity) }
            case GRADUS_PRUNE_SCOPE_GLOBAL:
                PruningSession.rankAndMask(Array(zip(scores, masks)), sparsity: plan.sparsity)
            default:
                throw GradusError("\(strategy.id): asked for scope \(plan.scope), expected 0 (layer) or 1 (global)")
            }
        } else if let update = vtable.update_masks {
            try PluginCall.check(strategy.id, "update_masks") { update(instance, &ctx, cTargets, UInt32(targets.count)) }
            for (i, m) in masks.enumerated() where m.storage.contains(where: { $0 != 0 && $0 != 1 }) {
                throw GradusError("\(strategy.id): mask of \(targets[i].name) holds values other than 0 and 1")
            }
        }
        applyToWeights()
    }

    /// torch's rule: round(s·n) with Python's round (half to even).
    public static func pruneCount(sparsity: Double, count: Int) -> Int {
        Int((sparsity * Double(count)).rounded(.toNearestOrEven))
    }

    /// Masks the lowest-scored entries of the concatenated tensors so that round(s·N) are zero.
    /// Entries already masked stay masked and are counted first.
    static func rankAndMask(_ pairs: [(scores: HostTensor, mask: HostTensor)], sparsity: Double) {
        let total = pairs.reduce(0) { $0 + $1.scores.count }
        let k = pruneCount(sparsity: sparsity, count: total)
        var order: [(pruned: Bool, score: Float, tensor: Int, index: Int)] = []
        order.reserveCapacity(total)
        for (t, p) in pairs.enumerated() {
            for i in 0..<p.scores.count { order.append((p.mask.storage[i] == 0, p.scores.storage[i], t, i)) }
        }
        order.sort { a, b in
            if a.pruned != b.pruned { return a.pruned }
            if a.score != b.score { return a.score < b.score }
            if a.tensor != b.tensor { return a.tensor < b.tensor }
            return a.index < b.index
        }
        for (rank, e) in order.enumerated() where rank < k { pairs[e.tensor].mask.storage[e.index] = 0 }
    }

    /// Zeroes masked weights (after pruning and after every optimizer step).
    public func applyToWeights() {
        for (t, m) in zip(targets, masks) {
            for i in 0..<m.count where m.storage[i] == 0 { t.value.storage[i] = 0 }
        }
    }

    /// Zeroes masked gradients (before the optimizer step).
    public func applyToGradients() {
        for (t, m) in zip(targets, masks) {
            for i in 0..<m.count where m.storage[i] == 0 { t.grad.storage[i] = 0 }
        }
    }

    /// Zeroes the masked entries of every `GRADUS_SLOT_MASKED` slot of the optimizer's state.
    public func applyToState(of optimizer: OptimizerSession) {
        for (p, param) in optimizer.parameters.enumerated() {
            guard let t = targets.firstIndex(where: { $0 === param }) else { continue }
            for (s, slot) in optimizer.slots.enumerated() where slot.likeParameter && slot.masked {
                let tensor = optimizer.state[p][s]
                for i in 0..<tensor.count where masks[t].storage[i] == 0 { tensor.storage[i] = 0 }
            }
        }
    }

    /// The fraction of zeros over all masks.
    public var sparsity: Double {
        let zeros = masks.reduce(0) { $0 + $1.storage.filter { $0 == 0 }.count }
        let total = masks.reduce(0) { $0 + $1.count }
        return total == 0 ? 0 : Double(zeros) / Double(total)
    }
}
