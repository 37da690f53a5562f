import GradusPluginKit

/// EXAdam as pytorch-optimizer's EXAdam (= the author's code): Adam whose moments are enhanced by
/// the cross terms d1 = 1 + β2ᵗ·v/(v + ε) and d2 = 1 + β1ᵗ·m²/(m² + ε), with the gradient itself
/// added to the debiased momentum; constant learning rate.
struct EXAdam: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.exadam", displayName: "EXAdam", version: "1.0.0",
                                   summary: "Adam with adaptive cross-moment debiasing and a gradient-accelerated step",
                                   reference: "Adly 2024; pytorch_optimizer.EXAdam 4.1.0")
    static let lr = Real.learningRate(1e-3), beta1 = Real.decay("beta1", 0.9, "decay of the first moment")
    static let beta2 = Real.decay("beta2", 0.999, "decay of the second moment"), eps = Real.epsilon(1e-8, "in the cross terms and added to the root")
    static let weightDecay = Real.weightDecay(decoupled: nil)
    static let hyperparameters = schema(lr, beta1, beta2, weightDecay, Flag.weightDecouple(), Flag.fixedDecay, eps, Flag.maximize)
    static let capabilities: Capabilities = [.decoupledWeightDecay]

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [.step, .expAvg, .expAvgSq] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, t = try p.advance(.step), lr = hp[Self.lr], beta1 = hp[Self.beta1], beta2 = hp[Self.beta2]
        let bc1 = 1 - pow(beta1, t), bc2 = 1 - pow(beta2, t), fbc1 = Float(bc1), fbc2 = Float(bc2)
        let oneMinusBC1 = Float(1 - bc1), oneMinusBC2 = Float(1 - bc2), step = Float(-lr)
        let decay = WeightDecay(hp[Self.weightDecay], lr: lr, decoupled: hp[Flag.weightDecouple()], fixed: hp[Flag.fixedDecay])
        let w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2), eps = Float(hp[Self.eps]), sign: Float = hp[Flag.maximize] ? -1 : 1
        let m = try p[.expAvg], v = try p[.expAvgSq], x = p.value, grad = p.grad
        forEachChunk(p.count) { range in
            for i in range {
                let xi = x[i] * decay.keep, g = sign * grad[i] + decay.coupled * xi
                m[i] = lerp(m[i], g, w1)
                v[i] = v[i] * b2 + w2 * g * g
                let d1 = v[i] / (v[i] + eps) * oneMinusBC2 + 1
                let msq = m[i] * m[i], d2 = msq / (msq + eps) * oneMinusBC1 + 1
                let u = m[i] / fbc1 * d1 + d1 * (g / fbc1)
                x[i] = xi + step * (u / (fastSqrt(d2 * (v[i] / fbc2)) + eps))
            }
        }
    }
}
