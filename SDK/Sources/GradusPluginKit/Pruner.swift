import CGradusABI

/// One prunable tensor as a pruner sees it.
public struct PruneTarget {
    let raw: UnsafePointer<gradus_prune_target>
    public let weight: TensorView
    /// nil when the host has no gradient for it.
    public let grad: TensorView?
    public let mask: TensorView
    /// Write importance scores here: higher means more important (kept longer).
    public let scores: TensorView
    public var name: String { raw.pointee.name.map { String(cString: $0) } ?? "" }
    public var role: ParameterRole { ParameterRole(rawValue: raw.pointee.role) }
}

/// Over which tensors one threshold is taken.
public enum PruneScope: Int32, Sendable { case layer = 0, global = 1 }

/// What to prune at this call.
public struct PrunePlan: Sendable {
    /// Target fraction of zeros, in [0, 1].
    public var sparsity: Double
    public var scope: PruneScope
    /// true: leave the masks as they are at this call.
    public var skip: Bool
    public init(sparsity: Double, scope: PruneScope, skip: Bool = false) {
        self.sparsity = sparsity; self.scope = scope; self.skip = skip
    }
}

/// Where the run is when the pruner is asked, and the host's services.
///
/// What a pruner receives during `gradus train`: it is called at the end of each epoch of the
/// pruning window with the weights as they are, the current masks, and the gradient of the last
/// mini-batch of that epoch with the already-pruned entries zeroed. The host's sparsity ramp
/// (Zhu & Gupta) writes the current target into the hyperparameter named exactly `sparsity` (a
/// pruner without one is called with its own settings unchanged).
public struct PruneContext {
    /// Optimizer steps done so far.
    public let step: Int64
    /// The planned length of the run in steps (0 only outside a training run, e.g. `plugins check`).
    public let totalSteps: Int64
    /// The pruner's hyperparameters at this call, schedules applied (e.g. the current target sparsity).
    public let hyperparameters: HyperparameterValues
    /// The host services table (RNG, gemm, logging...).
    public let services: UnsafePointer<gradus_host_services>?
    let strategyID: String

    /// Writes one line to the host's log, tagged with this pruner's id.
    public func log(_ message: String, level: LogLevel = .info) { hostLog(services, level, strategyID, message) }
}

/// A pruner that scores weights; the host ranks, masks, and applies masks to
/// weights, gradients and optimizer state.
public protocol PrunerPlugin {
    static var info: StrategyInfo { get }
    static var hyperparameters: [Hyperparameter] { get }
    static var capabilities: Capabilities { get }
    init(_ hyperparameters: HyperparameterValues) throws
    /// Fills `scores` of every target and says how much to prune.
    mutating func score(_ targets: [PruneTarget], _ context: PruneContext) throws -> PrunePlan
}

extension PrunerPlugin {
    public static var capabilities: Capabilities { [] }
}

final class PrunerInstance {
    var plugin: any PrunerPlugin
    let services: UnsafePointer<gradus_host_services>?
    let schema: SchemaIndex
    let id: String
    init(_ plugin: any PrunerPlugin, services: UnsafePointer<gradus_host_services>?, schema: SchemaIndex, id: String) {
        self.plugin = plugin; self.services = services; self.schema = schema; self.id = id
    }
}

enum PrunerThunks {
    nonisolated(unsafe) static let vtable: UnsafePointer<gradus_pruner_vtable> = {
        var v = gradus_pruner_vtable()
        v.struct_size = abiSize(gradus_pruner_vtable.self)
        v.abi_minor = UInt32(GRADUS_ABI_MINOR)
        v.create = { strategy, services, hp, out in
            reportingErrors(services) {
                guard let out, let record = GradusLibrary.record(strategy),
                      case .pruner(let type) = record.strategy else {
                    throw PluginError.invalidArgument("create called with a descriptor this library did not publish")
                }
                let plugin = try type.init(HyperparameterValues(hp, schema: record.schema))
                out.pointee = Unmanaged.passRetained(PrunerInstance(plugin, services: services, schema: record.schema,
                                                                    id: record.id)).toOpaque()
            }
        }
        v.destroy = { instance in
            guard let instance else { return }
            Unmanaged<PrunerInstance>.fromOpaque(instance).release()
        }
        v.score = { instance, ctx, targets, count, plan in
            guard let instance, let ctx, let plan else { return GRADUS_ERR_INVALID_ARGUMENT }
            let box = Unmanaged<PrunerInstance>.fromOpaque(instance).takeUnretainedValue()
            return reportingErrors(box.services) {
                var list: [PruneTarget] = []
                if count > 0 {
                    guard let targets else { throw PluginError.invalidArgument("targets is NULL") }
                    for i in 0..<Int(count) {
                        let t = abiElement(targets, i, stride: targets.pointee.struct_size)
                        guard let w = t.pointee.weight, let m = t.pointee.mask, let s = t.pointee.scores else {
                            throw PluginError.invalidArgument("target \(i) lacks weight, mask or scores")
                        }
                        list.append(PruneTarget(raw: t, weight: try TensorView(w), grad: try t.pointee.grad.map { try TensorView($0) },
                                                mask: try TensorView(m), scores: try TensorView(s)))
                    }
                }
                let context = PruneContext(step: ctx.pointee.step, totalSteps: ctx.pointee.total_steps,
                                           hyperparameters: HyperparameterValues(ctx.pointee.hyperparameters, schema: box.schema),
                                           services: ctx.pointee.services, strategyID: box.id)
                let p = try box.plugin.score(list, context)
                plan.pointee.sparsity = p.sparsity
                plan.pointee.scope = p.scope.rawValue
                plan.pointee.skip = p.skip ? 1 : 0
            }
        }
        return UnsafePointer(Permanent.value(v))
    }()
}
