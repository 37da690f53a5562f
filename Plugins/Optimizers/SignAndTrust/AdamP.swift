import GradusPluginKit

/// AdamP as clovaai's adamp.AdamP: Adam whose update loses its radial component on scale-invariant
/// weights (see RadialProjection), with decoupled decay scaled by wd_ratio when it does.
struct AdamP: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.adamp", displayName: "AdamP", version: "1.0.0",
                                   summary: "Adam with the radial component projected out for scale-invariant weights",
                                   reference: "Heo et al. 2021; adamp.AdamP 0.3.0")
    static let lr = Real.learningRate(1e-3), beta1 = Real.decay("beta1", 0.9, "decay of the first moment")
    static let beta2 = Real.decay("beta2", 0.999, "decay of the second moment"), weightDecay = Real.weightDecay(decoupled: true)
    static let nesterov = Flag("nesterov", doc: "use β1·m + (1 − β1)·g in the numerator")
    static let hyperparameters = schema(lr, beta1, beta2, ProjectionKeys.eps, weightDecay, ProjectionKeys.delta, ProjectionKeys.wdRatio, nesterov, Flag.maximize)
    static let capabilities: Capabilities = [.needsShapes, .decoupledWeightDecay]

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [.step, .expAvg, .expAvgSq] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, t = try p.advance(.step), beta1 = hp[Self.beta1], beta2 = hp[Self.beta2], lr = hp[Self.lr]
        let rootBC2 = Float((1 - pow(beta2, t)).squareRoot()), eps = Float(hp[ProjectionKeys.eps]), nesterov = hp[Self.nesterov]
        let b1 = Float(beta1), w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2), sign: Float = hp[Flag.maximize] ? -1 : 1
        let m = try p[.expAvg], v = try p[.expAvgSq], grad = p.grad, wd = hp[Self.weightDecay]
        let step = Float(-lr / (1 - pow(beta1, t)))
        @inline(__always) func direction(_ i: Int, _ nesterov: Bool) -> Float {
            let g = sign * grad[i]
            m[i] = m[i] * b1 + w1 * g
            v[i] = v[i] * b2 + w2 * g * g
            return (nesterov ? b1 * m[i] + w1 * g : m[i]) / (fastSqrt(v[i]) / rootBC2 + eps)
        }
        RadialProjection.step(p, hp, sign: sign, nesterov: nesterov, step: step, decays: wd > 0,
                              keep: { Float(1 - lr * wd * $0) }, direction: direction)
    }
}
