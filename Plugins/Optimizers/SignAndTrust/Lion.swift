import GradusPluginKit

/// Lion as pytorch-optimizer's Lion (= lion-pytorch = timm): the sign of an interpolation of the
/// momentum and the gradient (β1), then the momentum moves with β2; decoupled decay by default.
struct Lion: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.lion", displayName: "Lion", version: "1.0.0",
                                   summary: "θ ← θ − η·sign(β1·m + (1 − β1)·g), then m ← β2·m + (1 − β2)·g; sign(0) = 0",
                                   reference: "Chen et al. 2023; pytorch_optimizer.Lion 4.1.0")
    static let lr = Real.learningRate(1e-4), beta1 = Real.decay("beta1", 0.9, "weight of the momentum in the signed direction")
    static let beta2 = Real.decay("beta2", 0.99, "decay of the momentum"), weightDecay = Real.weightDecay(decoupled: nil)
    static let hyperparameters = schema(lr, beta1, beta2, weightDecay, Flag.weightDecouple(), Flag.fixedDecay, Flag.maximize)
    static let capabilities: Capabilities = [.decoupledWeightDecay]
    static let expAvg = StateSlot.likeParameter("exp_avg")

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [Self.expAvg] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, lr = Float(hp[Self.lr]), sign: Float = hp[Flag.maximize] ? -1 : 1
        let decay = WeightDecay(hp[Self.weightDecay], lr: hp[Self.lr], decoupled: hp[Flag.weightDecouple()], fixed: hp[Flag.fixedDecay])
        let w1 = Float(1 - hp[Self.beta1]), w2 = Float(1 - hp[Self.beta2]), m = try p[Self.expAvg], x = p.value, grad = p.grad
        forEachChunk(p.count) { range in
            for i in range {
                let xi = x[i] * decay.keep, g = sign * grad[i] + decay.coupled * xi
                let c = lerp(m[i], g, w1)
                m[i] = lerp(m[i], g, w2)
                x[i] = xi + -lr * (c > 0 ? 1 : c < 0 ? -1 : 0)
            }
        }
    }
}
