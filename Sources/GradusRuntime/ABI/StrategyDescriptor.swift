import CGradusABI

/// The four kinds of strategy.
public enum StrategyKind: String, Sendable, CaseIterable {
    case optimizer, normalizer, pruner, function

    init?(code: Int32) {
        switch code {
        case GRADUS_KIND_OPTIMIZER: self = .optimizer
        case GRADUS_KIND_NORMALIZER: self = .normalizer
        case GRADUS_KIND_PRUNER: self = .pruner
        case GRADUS_KIND_FUNCTION: self = .function
        default: return nil
        }
    }
}

/// The kind-specific entry points of a strategy, copied out of the plugin after validation.
public enum StrategyVTable {
    case optimizer(gradus_optimizer_vtable)
    case normalizer(gradus_normalizer_vtable)
    case pruner(gradus_pruner_vtable)
    case function(signature: FunctionSignature, fn: gradus_generic_fn, purpose: UInt32)
}

/// A strategy found in a plugin library, completely validated and copied into host memory.
public struct StrategyDescriptor {
    public let kind: StrategyKind
    public let id: String
    public let displayName: String
    public let version: String
    public let summary: String
    public let reference: String?
    public let capabilities: UInt64
    public let hyperparameters: [HyperparameterSpec]
    public let vtable: StrategyVTable
    /// The library file it came from.
    public let file: String
    /// The ABI version negotiated with the library, e.g. "1.0".
    public let abiVersion: String
    /// The minor of `abiVersion` ("1.1" → 1): which appended ABI features the plugin may use.
    public var abiMinor: UInt32 { UInt32(abiVersion.split(separator: ".").last ?? "0") ?? 0 }
    /// The plugin's own descriptor, passed back to its create functions.
    let raw: UnsafePointer<gradus_strategy_descriptor>

    /// Capability flag names, for `plugins info`.
    public var capabilityNames: [String] { Capability.names(capabilities) }
}

/// Names of the capability flags (gradus/entry.h).
public enum Capability {
    static let all: [(UInt64, String)] = [
        (GRADUS_CAP_NEEDS_LOSS, "needs_loss"), (GRADUS_CAP_NEEDS_CLOSURE, "needs_closure"),
        (GRADUS_CAP_NEEDS_SAMPLING_CONTEXT, "needs_sampling_context"), (GRADUS_CAP_NEEDS_HVP, "needs_hvp"),
        (GRADUS_CAP_NEEDS_JVP, "needs_jvp"), (GRADUS_CAP_NEEDS_PER_SAMPLE, "needs_per_sample"),
        (GRADUS_CAP_NEEDS_FULL_GRAD, "needs_full_grad"), (GRADUS_CAP_NEEDS_BATCH_CONTROL, "needs_batch_control"),
        (GRADUS_CAP_NEEDS_TASK_EVENTS, "needs_task_events"), (GRADUS_CAP_NEEDS_SHAPES, "needs_shapes"),
        (GRADUS_CAP_NEEDS_ROLES, "needs_roles"), (GRADUS_CAP_MATRIX_ONLY, "matrix_only"),
        (GRADUS_CAP_NEEDS_GLOBAL_VIEW, "needs_global_view"), (GRADUS_CAP_NEEDS_ACTIVATIONS, "needs_activations"),
        (GRADUS_CAP_NEEDS_LINALG, "needs_linalg"), (GRADUS_CAP_NEEDS_RNG, "needs_rng"),
        (GRADUS_CAP_NEEDS_SNAPSHOT, "needs_snapshot"), (GRADUS_CAP_NEEDS_POST_STEP, "needs_post_step"),
        (GRADUS_CAP_NEEDS_CUSTOM_VJP, "needs_custom_vjp"), (GRADUS_CAP_NEEDS_DENSE_MASKED_GRAD, "needs_dense_masked_grad"),
        (GRADUS_CAP_NEEDS_OPT_STATE_ACCESS, "needs_opt_state_access"),
        (GRADUS_CAP_DECOUPLED_WEIGHT_DECAY, "decoupled_weight_decay"), (GRADUS_CAP_EVAL_POINT, "eval_point"),
    ].map { (UInt64($0.0), $0.1) }

    public static func names(_ bits: UInt64) -> [String] { all.filter { bits & $0.0 != 0 }.map(\.1) }
}
