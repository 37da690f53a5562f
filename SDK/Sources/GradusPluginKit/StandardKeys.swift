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
    /// Weight decay λ ≥ 0: coupled (g + λθ), decoupled (θ·(1 − η·λ)), or (nil) either, as the
    /// `weight_decouple` and `fixed_decay` flags say; declare `.decoupledWeightDecay` among the
    /// capabilities when it can be decoupled.
    public static func weightDecay(_ value: Double = 0, decoupled: Bool?) -> Real {
        let doc = decoupled.map { $0 ? "decoupled decay λ: θ ← θ·(1 − η·λ)" : "coupled L2 penalty λ added to the gradient" }
            ?? "weight decay λ, decoupled θ·(1 − η·λ) or coupled g + λθ as weight_decouple and fixed_decay say"
        return Real("weight_decay", default: value, min: 0, flags: [.schedulable, .perGroup], doc: doc)
    }
}

extension Flag {
    /// Ascend instead of descend (the gradient's sign is flipped before anything else).
    public static let maximize = Flag("maximize", doc: "ascend instead of descend")
    /// pytorch-optimizer's `weight_decouple`: decoupled decay θ·(1 − η·λ) instead of g + λθ.
    public static func weightDecouple(_ value: Bool = true) -> Flag {
        Flag("weight_decouple", default: value, doc: "decoupled decay θ·(1 − η·λ) instead of adding λθ to the gradient")
    }
    /// pytorch-optimizer's `fixed_decay`: decoupled decay θ·(1 − λ), not scaled by η.
    public static let fixedDecay = Flag("fixed_decay", doc: "decoupled decay θ·(1 − λ), not scaled by the learning rate")
}

/// Weight decay in one of its forms, as two float32 factors for an element loop: multiply θ by
/// `keep` first (decoupled), then add `coupled`·θ to the gradient (coupled L2). One of them is a no-op.
public struct WeightDecay: Sendable {
    public let keep: Float
    public let coupled: Float
    /// λ with learning rate η: decoupled θ·(1 − η·λ) (θ·(1 − λ) when `fixed`), or coupled g + λθ.
    public init(_ lambda: Double, lr: Double, decoupled: Bool, fixed: Bool = false) {
        keep = decoupled ? Float(1 - lambda * (fixed ? 1 : lr)) : 1
        coupled = decoupled ? 0 : Float(lambda)
    }
}

extension StateSlot {
    /// The exact step counter t (1 on the first update), as torch keeps it in `state["step"]`.
    public static let step = StateSlot.exactScalar("step")
    /// The first moment m (torch's `exp_avg`), parameter-shaped and masked.
    public static let expAvg = StateSlot.likeParameter("exp_avg")
    /// The second moment v (torch's `exp_avg_sq`), parameter-shaped and masked.
    public static let expAvgSq = StateSlot.likeParameter("exp_avg_sq")
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
