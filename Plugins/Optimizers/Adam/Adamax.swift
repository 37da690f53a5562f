import GradusPluginKit

/// Adamax: Adam with the infinity norm, u ← max(β2·u, |g| + ε), as torch.optim.Adamax.
struct Adamax: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.adamax", displayName: "Adamax", version: "1.0.0",
                                   summary: "Adam's infinity-norm variant: u = max(β2·u, |g| + ε), step η/(1 − β1ᵗ)·m/u",
                                   reference: "Kingma & Ba 2015, §7.1; torch.optim.Adamax")
    static let lr = Real.learningRate(2e-3), beta1 = Real.decay("beta1", 0.9, "decay of the first moment", schedulable: true)
    static let beta2 = Real.decay("beta2", 0.999, "decay of the infinity norm u")
    static let eps = Real.epsilon(1e-8, "added to |g| inside the max"), weightDecay = Real.weightDecay(decoupled: false)
    static let hyperparameters = schema(lr, beta1, beta2, eps, weightDecay, Flag.maximize)
    static let expAvg = StateSlot.likeParameter("exp_avg"), expInf = StateSlot.likeParameter("exp_inf")

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [.step, Self.expAvg, Self.expInf] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, t = try p.advance(.step)
        let w1 = Float(1 - hp[Self.beta1]), b2 = Float(hp[Self.beta2]), eps = Float(hp[Self.eps]), wd = Float(hp[Self.weightDecay])
        let clr = Float(hp[Self.lr] / (1 - pow(hp[Self.beta1], t))), sign: Float = hp[Flag.maximize] ? -1 : 1
        let m = try p[Self.expAvg], u = try p[Self.expInf], x = p.value, grad = p.grad
        forEachChunk(p.count) { range in
            for i in range {
                let g = sign * grad[i] + wd * x[i]
                m[i] = lerp(m[i], g, w1)
                u[i] = max(u[i] * b2, abs(g) + eps)
                x[i] += -clr * (m[i] / u[i])
            }
        }
    }
}
