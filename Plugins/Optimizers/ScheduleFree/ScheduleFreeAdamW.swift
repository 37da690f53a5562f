import GradusPluginKit

/// Schedule-free AdamW as schedulefree.AdamWScheduleFree: the parameters hold the gradient point
/// y = lerp(z, x, β1) while training; z takes plain normalized steps; x is the weighted average of
/// the z sequence (weights (k+1)^r·lr_max^weight_lr_power) and is what the model is evaluated and
/// saved at: the host asks for it through the evaluation point and gives y back exactly. Gradus
/// adds `maximize`.
struct ScheduleFreeAdamW: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.schedulefree_adamw", displayName: "Schedule-free AdamW", version: "1.0.0",
                                   summary: "AdamW without a learning-rate schedule: trains at y, averages into x (the evaluation point)",
                                   reference: "Defazio et al. 2024; schedulefree.AdamWScheduleFree 1.4.1")
    /// Not schedulable: the method replaces the schedule (warmup is built in), and y keeps moving
    /// toward the average z even at η = 0.
    static let lr = Real("lr", default: 2.5e-3, min: 0, flags: [.logScale, .perGroup], doc: "learning rate (no schedule: that is the method's point)")
    static let beta1 = Real("beta1", default: 0.9, min: 0, max: 1, flags: [.perGroup, .minExclusive, .maxExclusive],
                             doc: "interpolation y = (1 − β1)·z + β1·x (x = lerp(y, z, 1 − 1/β1) needs β1 > 0)")
    static let beta2 = Real.decay("beta2", 0.999, "decay of the second moment"), eps = Real.epsilon(1e-8, "added to √v̂, outside the root")
    static let weightDecay = Real("weight_decay", default: 0, min: 0, flags: [.schedulable, .perGroup], doc: "λ: λ·y is added to the normalized gradient")
    static let warmup = Integer("warmup_steps", default: 0, min: 0, doc: "linear learning-rate warmup over this many steps")
    static let r = Real("r", default: 0, min: 0, flags: [.perGroup], doc: "polynomial weighting (k+1)^r of the average")
    static let weightPower = Real("weight_lr_power", default: 2, min: 0, flags: [.perGroup], doc: "the average weights lr_max^weight_lr_power")
    static let hyperparameters = schema(lr, beta1, beta2, eps, weightDecay, warmup, r, weightPower, Flag.maximize)
    static let capabilities: Capabilities = [.evalPoint]
    static let z = StateSlot.likeParameter("z"), k = StateSlot.exactScalar("k"), weightSum = StateSlot.exactScalar("weight_sum")
    static let lrMax = StateSlot.exactScalar("lr_max", initialValue: -1), scheduledLR = StateSlot.exactScalar("scheduled_lr")

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [Self.k, Self.weightSum, Self.lrMax, Self.scheduledLR, Self.z, .expAvgSq] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, count = try p.exact(Self.k), k = count.pointee, warmup = Double(hp[Self.warmup])
        let lr = hp[Self.lr] * (k < warmup ? (k + 1) / warmup : 1)
        try p.exact(Self.scheduledLR).pointee = lr
        let lrMax = try p.exact(Self.lrMax), sum = try p.exact(Self.weightSum)
        lrMax.pointee = max(lr, lrMax.pointee)
        let weight = pow(k + 1, hp[Self.r]) * pow(lrMax.pointee, hp[Self.weightPower])
        sum.pointee += weight
        let ckp1 = sum.pointee == 0 ? 0 : weight / sum.pointee
        count.pointee = k + 1
        let bc2 = Float(1 - pow(hp[Self.beta2], k + 1)), b2 = Float(hp[Self.beta2]), w2 = Float(1 - hp[Self.beta2])
        let eps = Float(hp[Self.eps]), decay = Float(hp[Self.weightDecay]), c = Float(ckp1)
        let yStep = Float(lr * (hp[Self.beta1] * (1 - ckp1) - 1)), zStep = Float(lr)
        let zs = try p[Self.z], v = try p[.expAvgSq], y = p.value, grad = p.grad, sign: Float = hp[Flag.maximize] ? -1 : 1
        if k == 0 { for i in 0..<p.count { zs[i] = y[i] } }
        forEachChunk(p.count) { range in
            for i in range {
                let raw = sign * grad[i]
                v[i] = v[i] * b2 + w2 * raw * raw
                let g = raw / (fastSqrt(v[i] / bc2) + eps) + decay * y[i]
                y[i] = lerp(y[i], zs[i], c) + yStep * g
                zs[i] -= zStep * g
            }
        }
    }

    /// x = lerp(y, z, 1 − 1/β1), as the reference's eval().
    func evaluationPoint(_ p: Parameter, _ ctx: StepContext) throws {
        let zs = try p[Self.z], y = p.value, w = Float(1 - 1 / ctx.hyperparameters[Self.beta1])
        guard try p.exact(Self.k).pointee > 0 else { return }  // before the first step z does not exist: x = y
        for i in 0..<p.count { y[i] = lerp(y[i], zs[i], w) }
    }
}

@_cdecl("gradus_plugin_entry_v1")
public func entry(_ q: EntryRequest?, _ r: EntryResponse?) -> Int32 {
    GradusLibrary.entry(q, r, name: "gradus-schedule-free", vendor: "gradus", [.optimizer(ScheduleFreeAdamW.self)])
}
