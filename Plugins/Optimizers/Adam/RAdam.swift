import GradusPluginKit

/// Rectified Adam as torch.optim.RAdam: the adaptive step only once the variance of the adaptive
/// learning rate is tractable (ρ_t > 5), the bias-corrected momentum step before; ε on the raw √v.
struct RAdam: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.radam", displayName: "RAdam", version: "1.0.0",
                                   summary: "Adam with the variance rectification r_t once ρ_t > 5; an un-adapted momentum step before",
                                   reference: "Liu et al. 2020; torch.optim.RAdam")
    static let lr = Real.learningRate(1e-3), beta1 = Real.decay("beta1", 0.9, "decay of the first moment")
    static let beta2 = Real.decay("beta2", 0.999, "decay of the second moment"), eps = Real.epsilon(1e-8, "added to √v before the bias correction")
    static let weightDecay = NAdam.weightDecay, decoupled = NAdam.decoupled
    static let hyperparameters = schema(lr, beta1, beta2, eps, weightDecay, decoupled, Flag.maximize)

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [.step, .expAvg, .expAvgSq] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, t = try p.advance(.step), lr = hp[Self.lr], beta1 = hp[Self.beta1], beta2 = hp[Self.beta2]
        let bc1 = Float(1 - pow(beta1, t)), bc2 = 1 - pow(beta2, t)
        let rhoInf = 2 / (1 - beta2) - 1, rhoT = rhoInf - 2 * t * pow(beta2, t) / bc2
        let adaptive = rhoT > 5
        let rect = adaptive ? Float(((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT)).squareRoot()) : 1
        let decoupled = hp[Self.decoupled], wd = hp[Self.weightDecay], rootBC2 = Float(bc2.squareRoot()), lr32 = Float(lr)
        let keep = Float(decoupled ? 1 - lr * wd : 1), coupled = Float(decoupled ? 0 : wd), sign: Float = hp[Flag.maximize] ? -1 : 1
        let w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2), eps = Float(hp[Self.eps])
        let m = try p[.expAvg], v = try p[.expAvgSq], x = p.value, grad = p.grad
        @inline(__always) func body(_ range: Range<Int>, _ adaptive: Bool) {
            for i in range {
                let xi = x[i] * keep, g = sign * grad[i] + coupled * xi
                m[i] = lerp(m[i], g, w1)
                v[i] = v[i] * b2 + w2 * g * g
                let momentumStep = m[i] / bc1 * lr32
                x[i] = xi + -(adaptive ? momentumStep * (rootBC2 / (fastSqrt(v[i]) + eps)) * rect : momentumStep)
            }
        }
        forEachChunk(p.count) { adaptive ? body($0, true) : body($0, false) }
    }
}
