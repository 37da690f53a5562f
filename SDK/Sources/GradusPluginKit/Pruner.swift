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
    public var role: ParameterRole { ParameterRole(rawValue: raw.pointee.role) ?? .unknown }
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

/// Where the run is when the pruner is asked.
public struct PruneContext {
    public let step: Int64
    /// 0 when unknown.
    public let totalSteps: Int64
    /// The pruner's hyperparameters at this call, schedules applied (e.g. the current target sparsity).
    public let hyperparameters: HyperparameterValues
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
    init(_ plugin: any PrunerPlugin, services: UnsafePointer<gradus_host_services>?, schema: SchemaIndex) {
        self.plugin = plugin; self.services = services; self.schema = schema
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
                out.pointee = Unmanaged.passRetained(PrunerInstance(plugin, services: services, schema: record.schema)).toOpaque()
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
                                           hyperparameters: HyperparameterValues(ctx.pointee.hyperparameters, schema: box.schema))
                let p = try box.plugin.score(list, context)
                plan.pointee.sparsity = p.sparsity
                plan.pointee.scope = p.scope.rawValue
                plan.pointee.skip = p.skip ? 1 : 0
            }
        }
        return UnsafePointer(Permanent.value(v))
    }()
}
