/// Hyperparameters and state most optimizers share, spelled and documented once. A plugin lists
/// them in its schema like its own keys (`static let lr = Real.learningRate(1e-3)`).
extension Real {
    /// The learning rate η: ≥ 0, log-scale, schedulable, per group.
    public static func learningRate(_ value: Double) -> Real {
        Real("lr", default: value, min: 0, flags: [.logScale, .schedulable, .perGroup], doc: "learning rate")
    }
    /// A decay rate in [0, 1) (an EMA coefficient or momentum).
    public static func decay(_ id: String, _ value: Double, _ doc: String, schedulable: Bool = false) -> Real {
        Real(id, default: value, min: 0, max: 1, flags: schedulable ? [.schedulable, .perGroup, .maxExclusive] : [.perGroup, .maxExclusive], doc: doc)
    }
    /// A stability constant ε > 0; say in `doc` where it enters.
    public static func epsilon(_ value: Double, _ doc: String, id: String = "eps") -> Real {
        Real(id, default: value, min: 0, flags: [.logScale, .perGroup, .minExclusive], doc: doc)
    }
    /// Weight decay λ ≥ 0: coupled (g + λθ) or decoupled (θ·(1 − η·λ)); declare
    /// `.decoupledWeightDecay` among the capabilities for the latter.
    public static func weightDecay(_ value: Double = 0, decoupled: Bool) -> Real {
        Real("weight_decay", default: value, min: 0, flags: [.schedulable, .perGroup],
             doc: decoupled ? "decoupled decay λ: θ ← θ·(1 − η·λ)" : "coupled L2 penalty λ added to the gradient")
    }
}

extension Flag {
    /// Ascend instead of descend (the gradient's sign is flipped before anything else).
    public static let maximize = Flag("maximize", doc: "ascend instead of descend")
}

extension StateSlot {
    /// The exact step counter t (1 on the first update), as torch keeps it in `state["step"]`.
    public static let step = StateSlot.exactScalar("step")
}

extension Parameter {
    /// Adds 1 to the exact counter `slot` and returns the new value (1 on the first update).
    public func advance(_ slot: StateSlot) throws -> Double {
        let counter = try exact(slot)
        counter.pointee += 1
        return counter.pointee
    }
}

/// torch's `lerp` in float32: a + w·(b − a) when |w| < 0.5, else b − (b − a)·(1 − w). Moving
/// averages written with it (m.lerp_(g, 1 − β)) round exactly as torch's do.
@inlinable @inline(__always)
public func lerp(_ a: Float, _ b: Float, _ w: Float) -> Float {
    abs(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w)
}
