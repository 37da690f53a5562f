import GradusPluginKit

/// NAdam with torch's momentum schedule μ_t = β1·(1 − ½·0.96^(t·ψ)) and the running product Π μ
/// (kept in float32 as torch does), coupled or decoupled weight decay; torch.optim.NAdam.
struct NAdam: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.nadam", displayName: "NAdam", version: "1.0.0",
                                   summary: "Nesterov-accelerated Adam with the 0.96^(tψ) momentum schedule (torch's variant, not optax's)",
                                   reference: "Dozat 2016; torch.optim.NAdam")
    static let lr = Real.learningRate(2e-3), beta1 = Real.decay("beta1", 0.9, "decay of the first moment")
    static let beta2 = Real.decay("beta2", 0.999, "decay of the second moment"), eps = Real.epsilon(1e-8, "added to √v̂, outside the root")
    static let weightDecay = Real("weight_decay", default: 0, min: 0, flags: [.schedulable, .perGroup],
                                  doc: "weight decay λ: coupled (g + λθ), or θ·(1 − η·λ) with decoupled_weight_decay")
    static let momentumDecay = Real("momentum_decay", default: 4e-3, min: 0, flags: [.perGroup], doc: "ψ in the momentum schedule")
    static let decoupled = Flag("decoupled_weight_decay", doc: "decay θ·(1 − η·λ) instead of adding λθ to the gradient (NAdamW)")
    static let hyperparameters = schema(lr, beta1, beta2, eps, weightDecay, momentumDecay, decoupled, Flag.maximize)
    static let muProduct = StateSlot.exactScalar("mu_product", initialValue: 1)

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [.step, Self.muProduct, .expAvg, .expAvgSq] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, t = try p.advance(.step), lr = hp[Self.lr], beta1 = hp[Self.beta1], psi = hp[Self.momentumDecay]
        let mu = beta1 * (1 - 0.5 * pow(0.96, t * psi)), muNext = beta1 * (1 - 0.5 * pow(0.96, (t + 1) * psi))
        let product = try p.exact(Self.muProduct)
        product.pointee = Double(Float(product.pointee) * Float(mu))  // a float32 tensor in torch
        let gradCoefficient = Float(-lr * (1 - mu) / (1 - product.pointee))
        let momentumCoefficient = Float(-lr * muNext / (1 - product.pointee * muNext))
        let decoupled = hp[Self.decoupled], wd = hp[Self.weightDecay]
        let keep = Float(decoupled ? 1 - lr * wd : 1), coupled = Float(decoupled ? 0 : wd), sign: Float = hp[Flag.maximize] ? -1 : 1
        let w1 = Float(1 - beta1), b2 = Float(hp[Self.beta2]), w2 = Float(1 - hp[Self.beta2]), eps = Float(hp[Self.eps])
        let bc2 = Float(1 - pow(hp[Self.beta2], t)), m = try p[.expAvg], v = try p[.expAvgSq], x = p.value, grad = p.grad
        forEachChunk(p.count) { range in
            for i in range {
                let xi = x[i] * keep, g = sign * grad[i] + coupled * xi
                m[i] = lerp(m[i], g, w1)
                v[i] = v[i] * b2 + w2 * g * g
                let denom = fastSqrt(v[i] / bc2) + eps
                let afterGrad = xi + gradCoefficient * (g / denom)
                x[i] = afterGrad + momentumCoefficient * (m[i] / denom)
            }
        }
    }
}
