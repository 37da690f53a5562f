import GradusPluginKit

/// SGDP as clovaai's adamp.SGDP: heavy-ball SGD (dampening, Nesterov; no first-step copy) whose
/// update loses its radial component on scale-invariant weights (see RadialProjection), with decay
/// θ·(1 − η·λ·wd_ratio/(1 − μ)). Without Nesterov the projection also applies to the momentum
/// buffer (the reference projects the buffer in place).
struct SGDP: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.sgdp", displayName: "SGDP", version: "1.0.0",
                                   summary: "momentum SGD with the radial component projected out for scale-invariant weights",
                                   reference: "Heo et al. 2021; adamp.SGDP 0.3.0")
    static let lr = Real.learningRate(1e-3), momentum = Real.decay("momentum", 0, "momentum μ: b ← μ·b + (1 − dampening)·g", schedulable: true)
    static let dampening = Real.decay("dampening", 0, "dampening of new gradients in the buffer")
    static let weightDecay = Real("weight_decay", default: 0, min: 0, flags: [.schedulable, .perGroup], doc: "decoupled decay θ·(1 − η·λ·ratio/(1 − μ))")
    static let nesterov = Flag("nesterov", doc: "step along g + μ·b")
    static let hyperparameters = schema(lr, momentum, dampening, weightDecay, nesterov, ProjectionKeys.eps, ProjectionKeys.delta, ProjectionKeys.wdRatio, Flag.maximize)
    static let capabilities: Capabilities = [.needsShapes, .decoupledWeightDecay]
    static let buffer = StateSlot.likeParameter("momentum")

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [Self.buffer] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, lr = hp[Self.lr], mu = hp[Self.momentum], sign: Float = hp[Flag.maximize] ? -1 : 1
        let b = try p[Self.buffer], grad = p.grad, keepNew = Float(1 - hp[Self.dampening]), m = Float(mu)
        let wd = hp[Self.weightDecay], nesterov = hp[Self.nesterov], step = Float(-lr)
        @inline(__always) func direction(_ i: Int, _ nesterov: Bool) -> Float {
            let g = sign * grad[i]
            b[i] = (b[i] * m).addingProduct(keepNew, g)  // one rounding, as torch's add_(g, alpha) compiles (FMA)
            return nesterov ? g + m * b[i] : b[i]
        }
        // Without Nesterov the reference's update is the buffer itself, so a projection also projects the buffer.
        RadialProjection.step(p, hp, sign: sign, nesterov: nesterov, step: step, decays: wd > 0,
                              keep: { Float(1 - lr * wd * $0 / (1 - mu)) }, direction: direction,
                              projected: { d in if !nesterov { for i in d.indices { b[i] = d[i] } } })
    }
}
