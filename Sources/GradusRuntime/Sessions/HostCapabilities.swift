import CGradusABI
import Foundation
import GradusCore

/// What the host can provide in a given kind of run; strategies needing more are refused up front.
public enum HostCapabilities {
    /// A trace on a test function: gradients, loss, RNG, shapes and roles, gemm.
    public static let traceRun: UInt64 = UInt64(GRADUS_CAP_NEEDS_LOSS | GRADUS_CAP_NEEDS_SHAPES | GRADUS_CAP_NEEDS_ROLES
        | GRADUS_CAP_NEEDS_RNG | GRADUS_CAP_NEEDS_LINALG | GRADUS_CAP_NEEDS_GLOBAL_VIEW
        | GRADUS_CAP_DECOUPLED_WEIGHT_DECAY | GRADUS_CAP_MATRIX_ONLY | GRADUS_CAP_EVAL_POINT)

    /// A training run adds Hessian-vector products, same-batch re-evaluation (closures) and
    /// layer activations (forward hooks).
    public static let trainingRun: UInt64 = traceRun | UInt64(GRADUS_CAP_NEEDS_HVP | GRADUS_CAP_NEEDS_CLOSURE | GRADUS_CAP_NEEDS_ACTIVATIONS)

    static let decoupledDecayBit = UInt64(GRADUS_CAP_DECOUPLED_WEIGHT_DECAY)
    static let globalViewBit = UInt64(GRADUS_CAP_NEEDS_GLOBAL_VIEW)
    static let matrixOnlyBit = UInt64(GRADUS_CAP_MATRIX_ONLY)

    /// A MATRIX_ONLY optimizer takes parameters of 2 or more dimensions (viewed as rows × the rest);
    /// anything else is refused by name, with the way to route it elsewhere.
    static func checkMatrixOnly(_ s: StrategyDescriptor, _ parameters: [HostParameter]) throws {
        guard s.capabilities & matrixOnlyBit != 0, let p = parameters.first(where: { $0.value.shape.count < 2 }) else { return }
        throw GradusError("\(s.id) takes only matrices (2 or more dimensions), but parameter '\(p.name)' has shape \(p.value.shape); route the others to another optimizer, e.g. optimizer=adamw with route.matrix=\(s.id.hasPrefix("gradus.") ? String(s.id.dropFirst(7)) : s.id)")
    }

    static func require(_ s: StrategyDescriptor, available: UInt64) throws {
        let missing = s.capabilities & ~available
        guard missing == 0 else {
            throw GradusError("\(s.id) needs \(Capability.names(missing).joined(separator: ", ")), which this run cannot provide")
        }
    }
}
