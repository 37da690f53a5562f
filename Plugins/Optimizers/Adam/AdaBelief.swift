import GradusPluginKit

/// AdaBelief as pytorch-optimizer's AdaBelief: the second moment tracks the squared prediction
/// error (g − m)² plus ε each step; optional AMSGrad bound and RAdam-style rectification.
struct AdaBelief: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.adabelief", displayName: "AdaBelief", version: "1.0.0",
                                   summary: "Adam whose denominator is the EMA of (g − m)² + ε (belief in the observed gradient)",
                                   reference: "Zhuang et al. 2020; pytorch_optimizer.AdaBelief 4.1.0")
    static let lr = Real.learningRate(1e-3), beta1 = Real.decay("beta1", 0.9, "decay of the first moment")
    static let beta2 = Real.decay("beta2", 0.999, "decay of the squared prediction error")
    static let weightDecay = Real.weightDecay(decoupled: nil)
    static let rectify = Flag("rectify", doc: "RAdam's variance rectification of the step")
    static let threshold = Integer("n_sma_threshold", default: 5, min: 4, doc: "rectify once ρ_t reaches this (at least 4: below, the rectification is not real)")
    static let degenerated = Flag("degenerated_to_sgd", default: true, doc: "with rectify: momentum-SGD steps while ρ_t is below the threshold (else no step)")
    static let amsBound = Flag("ams_bound", doc: "use the running maximum of the second moment")
    static let eps = Real.epsilon(1e-16, "added to the second moment every step and to its root")
    static let hyperparameters = schema(lr, beta1, beta2, weightDecay, Flag.weightDecouple(), Flag.fixedDecay, rectify, threshold,
                                        degenerated, amsBound, eps, Flag.maximize)
    static let capabilities: Capabilities = [.decoupledWeightDecay]
    static let expAvgVar = StateSlot.likeParameter("exp_avg_var"), maxExpAvgVar = StateSlot.likeParameter("max_exp_avg_var")

    let ams: Bool
    init(_ hp: HyperparameterValues) throws { ams = hp[Self.amsBound] }
    var stateSlots: [StateSlot] { [.step, .expAvg, Self.expAvgVar] + (ams ? [Self.maxExpAvgVar] : []) }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, t = try p.advance(.step), lr = hp[Self.lr], beta1 = hp[Self.beta1], beta2 = hp[Self.beta2]
        let bc1 = 1 - pow(beta1, t), bc2 = 1 - pow(beta2, t)
        // (step size, divide by √bc2, whether the adaptive step applies; nil: no step at all)
        var stepSize = lr / bc1, adaptive = true
        if hp[Self.rectify] {
            let rhoInf = 2 / (1 - beta2) - 1, rho = rhoInf - 2 * t * pow(beta2, t) / bc2
            adaptive = rho >= Double(hp[Self.threshold])
            let rt = adaptive ? (bc2 * (rho - 4) / (rhoInf - 4) * (rho - 2) / rho * rhoInf / (rhoInf - 2)).squareRoot()
                              : hp[Self.degenerated] ? 1 : -1
            stepSize = lr * rt / bc1
        }
        let rootBC2 = Float(hp[Self.rectify] ? 1 : bc2.squareRoot()), moves = adaptive || stepSize > 0
        let step = moves ? Float(-stepSize) : 0    // no step: x = xi + 0·(finite) = xi
        let decay = WeightDecay(hp[Self.weightDecay], lr: lr, decoupled: hp[Flag.weightDecouple()], fixed: hp[Flag.fixedDecay])
        let w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2), eps = Float(hp[Self.eps]), sign: Float = hp[Flag.maximize] ? -1 : 1
        let m = try p[.expAvg], s = try p[Self.expAvgVar], smax = ams ? try p[Self.maxExpAvgVar] : s, x = p.value, grad = p.grad
        let keep = decay.keep, coupled = decay.coupled
        @inline(__always) func body(_ range: Range<Int>, _ ams: Bool, _ adaptive: Bool) {
            for i in range {
                let xi = x[i] * keep, g = sign * grad[i] + coupled * xi
                m[i] = lerp(m[i], g, w1)
                let r = g - m[i]
                s[i] = (s[i] * b2 + w2 * r * r) + eps
                if ams { smax[i] = max(smax[i], s[i]) }
                x[i] = adaptive ? xi + step * (m[i] / (fastSqrt(ams ? smax[i] : s[i]) / rootBC2 + eps)) : xi + step * m[i]
            }
        }
        // A skipped step (rectification without the SGD fallback) still moves the moments.
        forEachChunk(p.count) { range in
            switch (ams, adaptive || !moves) {
            case (true, true): body(range, true, true)
            case (true, false): body(range, true, false)
            case (false, true): body(range, false, true)
            case (false, false): body(range, false, false)
            }
        }
    }
}
