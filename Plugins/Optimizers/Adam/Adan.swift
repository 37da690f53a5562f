import GradusPluginKit

/// Adan as pytorch-optimizer's Adan: Nesterov momentum estimated from gradient differences, with
/// three EMAs (gradient, gradient difference, squared Nesterov gradient), the paper's proximal
/// weight decay θ/(1 + η·λ) or decoupled decay, and optional clipping by the group's gradient norm.
struct Adan: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.adan", displayName: "Adan", version: "1.0.0",
                                   summary: "adaptive Nesterov momentum from gradient differences; proximal or decoupled decay",
                                   reference: "Xie et al. 2022; pytorch_optimizer.Adan 4.1.0")
    static let lr = Real.learningRate(1e-3), beta1 = Real.decay("beta1", 0.98, "decay of the gradient average (the paper's 1 − β1)")
    static let beta2 = Real.decay("beta2", 0.92, "decay of the gradient-difference average")
    static let beta3 = Real("beta3", default: 0.99, min: 0, max: 1, flags: [.perGroup, .maxExclusive], doc: "decay of the squared Nesterov gradient")
    static let weightDecay = Real("weight_decay", default: 0, min: 0, flags: [.schedulable, .perGroup], doc: "λ: proximal θ/(1 + η·λ), or decoupled with weight_decouple")
    static let maxGradNorm = Real("max_grad_norm", default: 0, min: 0, flags: [.perGroup], doc: "clip the group's gradient to this 2-norm (0: off)")
    static let eps = Real.epsilon(1e-8, "added to the root and to the norm in clipping")
    static let hyperparameters = schema(lr, beta1, beta2, beta3, weightDecay, Flag.weightDecouple(false), maxGradNorm, eps, Flag.maximize)
    static let capabilities: Capabilities = [.decoupledWeightDecay, .needsGlobalView]
    static let expAvgDiff = StateSlot.likeParameter("exp_avg_diff"), previous = StateSlot.likeParameter("previous_grad")

    var clip: Float = 1
    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [.step, .expAvg, Self.expAvgDiff, .expAvgSq, Self.previous] }

    /// The clipping factor min(τ/(‖g‖ + ε), 1) over the whole group.
    mutating func prepare(_ group: [Parameter], _ ctx: StepContext) throws {
        let tau = ctx.hyperparameters[Self.maxGradNorm]
        guard tau > 0 else { clip = 1; return }
        let norm = Float(group.reduce(0.0) { s, p in p.grad.reduce(s) { $0 + Double($1) * Double($1) } }.squareRoot())
        clip = min(Float(tau) / (norm + Float(ctx.hyperparameters[Self.eps])), 1)
    }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, t = try p.advance(.step), lr = hp[Self.lr], beta1 = hp[Self.beta1], beta2 = hp[Self.beta2]
        let decoupled = hp[Flag.weightDecouple()], wd = hp[Self.weightDecay], sign: Float = hp[Flag.maximize] ? -1 : 1
        let keep = Float(decoupled ? 1 - lr * wd : 1), proximal = Float(!decoupled && wd > 0 ? 1 + lr * wd : 1)
        let rootBC3 = Float((1 - pow(hp[Self.beta3], t)).squareRoot()), eps = Float(hp[Self.eps])
        let mStep = Float(-lr / (1 - pow(beta1, t))), dStep = Float(-lr * beta2 / (1 - pow(beta2, t)))
        let w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2), b3 = Float(hp[Self.beta3]), w3 = Float(1 - hp[Self.beta3])
        let m = try p[.expAvg], dm = try p[Self.expAvgDiff], n = try p[.expAvgSq], prev = try p[Self.previous]
        let x = p.value, grad = p.grad, first = t == 1, clip = self.clip
        @inline(__always) func body(_ range: Range<Int>, _ first: Bool) {
            for i in range {
                let g = sign * grad[i] * clip
                if first { prev[i] = -g }  // the first difference is 0 (also when maximizing: minimize(−f))
                let diff = prev[i] + g
                m[i] = lerp(m[i], g, w1)
                dm[i] = lerp(dm[i], diff, w2)
                let z = diff * b2 + g
                n[i] = n[i] * b3 + w3 * z * z
                let den = fastSqrt(n[i]) / rootBC3 + eps
                var xi = x[i] * keep
                xi = xi + mStep * (m[i] / den)
                xi = xi + dStep * (dm[i] / den)
                x[i] = xi / proximal
                prev[i] = -g
            }
        }
        forEachChunk(p.count) { first ? body($0, true) : body($0, false) }
    }
}
