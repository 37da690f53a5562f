import GradusPluginKit

/// AdaGrad as torch.optim.Adagrad: G ← G + g², θ ← θ − η_t·g/(√G + ε) with η_t = η/(1 + (t − 1)·lr_decay).
struct Adagrad: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.adagrad", displayName: "Adagrad", version: "1.0.0",
                                   summary: "per-coordinate steps scaled by the root of the summed squared gradients; ε outside the root",
                                   reference: "Duchi, Hazan & Singer 2011; torch.optim.Adagrad")
    static let lr = Real.learningRate(1e-2), eps = Real.epsilon(1e-10, "added to √G, outside the root")
    static let lrDecay = Real("lr_decay", default: 0, min: 0, flags: [.perGroup], doc: "η_t = η / (1 + (t − 1)·lr_decay)")
    static let initialAccumulator = Real("initial_accumulator_value", default: 0, min: 0, doc: "G₀, the accumulator's starting value")
    static let weightDecay = Real.weightDecay(decoupled: false)
    static let hyperparameters = schema(lr, lrDecay, weightDecay, initialAccumulator, eps, Flag.maximize)

    let sum: StateSlot
    init(_ hp: HyperparameterValues) throws { sum = .likeParameter("sum", initialValue: hp[Self.initialAccumulator]) }
    var stateSlots: [StateSlot] { [.step, sum] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, t = try p.advance(.step)
        let clr = Float(hp[Self.lr] / (1 + (t - 1) * hp[Self.lrDecay])), eps = Float(hp[Self.eps]), wd = Float(hp[Self.weightDecay])
        let sign: Float = hp[Flag.maximize] ? -1 : 1, s = try p[sum], x = p.value, grad = p.grad
        forEachChunk(p.count) { range in
            for i in range {
                let g = sign * grad[i] + wd * x[i]
                s[i] += g * g
                x[i] += -clr * (g / (fastSqrt(s[i]) + eps))
            }
        }
    }
}
