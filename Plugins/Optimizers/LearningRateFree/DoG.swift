import GradusPluginKit

/// DoG and L-DoG as dog-optimizer 1.0.3: SGD with the step η_t = c·r̄_t/√G_t, r̄_t the largest
/// distance from the initial point x₀ so far (at least reps_rel·(1 + ‖x₀‖)), G_t the running sum of
/// squared gradient norms (+ ε once); coupled weight decay enters the gradient. DoG measures both
/// norms over the whole group (it declares a global view); L-DoG per tensor. Iterate averaging,
/// which the authors recommend for evaluation, is not part of the step.
struct DistanceOverGradients {
    static let lr = Real("lr", default: 1, min: 0, flags: [.logScale, .schedulable, .perGroup], doc: "the multiplier c of the step (the authors advise 1)")
    static let repsRel = Real("reps_rel", default: 1e-6, min: 0, flags: [.perGroup, .minExclusive], doc: "initial distance reps_rel·(1 + ‖x₀‖) (1e-4 with batch normalization)")
    static let weightDecay = Real.weightDecay(decoupled: false)
    static let eps = Real.epsilon(1e-8, "added once to the sum of squared gradient norms")
    static let initEta = Real("init_eta", default: 0, min: 0, flags: [.perGroup], doc: "if > 0, the first step size (instead of the one from reps_rel)")
    static let hyperparameters = schema(lr, repsRel, weightDecay, eps, initEta, Flag.maximize)
    static let initial = StateSlot.likeParameter("init_buffer", masked: false)
    static let rbar = StateSlot.exactScalar("rbar"), sum = StateSlot.exactScalar("g_sum"), eta = StateSlot.exactScalar("eta")
    static let slots: [StateSlot] = [initial, rbar, sum, eta]

    /// One step for `parameters` measured together (the whole group for DoG, one tensor for L-DoG).
    static func step(_ parameters: [Parameter], _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, wd = Float(hp[Self.weightDecay]), sign: Float = hp[Flag.maximize] ? -1 : 1
        guard let first = parameters.first else { return }
        let isFirst = try first.exact(Self.sum).pointee == 0
        var xNorm = 0.0, distance = 0.0, gradNorm = 0.0
        let vsign = SIMD8<Float>(repeating: sign), vwd = SIMD8<Float>(repeating: wd)
        for p in parameters {
            let x = UnsafeBufferPointer(p.value), x0 = try p[Self.initial], grad = p.grad
            if isFirst { for i in 0..<p.count { x0[i] = x[i] } }
            let start = UnsafeBufferPointer(x0)
            // ‖x‖², ‖x − x₀‖² and ‖g‖² in one pass, eight lanes per block of 1024 (no closures: the lanes stay in registers).
            var i = 0
            let end = p.count & ~7
            while i < end {
                var xs = SIMD8<Float>(repeating: 0), ds = xs, gs = xs
                let blockEnd = min(i + 1024, end)
                while i < blockEnd {
                    let xi = x[vector: i], d = xi - start[vector: i], g = vsign * grad[vector: i] + vwd * xi
                    xs += xi * xi; ds += d * d; gs += g * g
                    i += 8
                }
                xNorm += Double(xs.sum()); distance += Double(ds.sum()); gradNorm += Double(gs.sum())
            }
            while i < p.count {
                let d = x[i] - start[i], g = sign * grad[i] + wd * x[i]
                xNorm += Double(x[i] * x[i]); distance += Double(d * d); gradNorm += Double(g * g)
                i += 1
            }
        }
        // float32 like the reference's 0-d tensors
        var rbar = Float(try first.exact(Self.rbar).pointee), total = Float(try first.exact(Self.sum).pointee)
        if isFirst {
            // An explicit first step replaces the initial distance (the reference then sets reps_rel = 0).
            rbar = (hp[Self.initEta] > 0 ? 0 : Float(hp[Self.repsRel])) * (1 + Float(xNorm.squareRoot()))
            total = Float(gradNorm) + Float(hp[Self.eps])
        } else {
            rbar = max(rbar, Float(distance.squareRoot()))
            total += Float(gradNorm)
        }
        guard total > 0 else { throw PluginError.numeric("DoG needs a positive sum of squared gradient norms, got \(total)") }
        var eta = Float(hp[Self.lr]) * rbar / total.squareRoot()
        if isFirst, hp[Self.initEta] > 0 { eta = Float(hp[Self.initEta]) }
        for p in parameters {
            try p.exact(Self.rbar).pointee = Double(rbar)
            try p.exact(Self.sum).pointee = Double(total)
            try p.exact(Self.eta).pointee = Double(eta)
            let x = p.value, grad = p.grad
            forEachChunk(p.count) { range in for i in range { x[i] += -eta * (sign * grad[i] + wd * x[i]) } }
        }
    }
}

struct DoG: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.dog", displayName: "DoG", version: "1.0.0",
                                   summary: "parameter-free SGD: step = max distance from x₀ / √(sum of squared gradient norms), over the group",
                                   reference: "Ivgi, Hinder & Carmon 2023; dog-optimizer 1.0.3 (DoG)")
    static let hyperparameters = DistanceOverGradients.hyperparameters
    static let capabilities: Capabilities = [.needsGlobalView]
    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { DistanceOverGradients.slots }
    func prepare(_ group: [Parameter], _ ctx: StepContext) throws { try DistanceOverGradients.step(group, ctx) }
    func update(_ p: Parameter, _ ctx: StepContext) throws {}
}

struct LDoG: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.ldog", displayName: "L-DoG", version: "1.0.0",
                                   summary: "layer-wise DoG: the DoG step size per tensor",
                                   reference: "Ivgi, Hinder & Carmon 2023; dog-optimizer 1.0.3 (LDoG)")
    static let hyperparameters = DistanceOverGradients.hyperparameters
    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { DistanceOverGradients.slots }
    func update(_ p: Parameter, _ ctx: StepContext) throws { try DistanceOverGradients.step([p], ctx) }
}
