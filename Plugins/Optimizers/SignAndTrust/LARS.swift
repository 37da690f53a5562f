import GradusPluginKit

/// LARS as pytorch-optimizer's LARS: for tensors of 2 or more dimensions the gradient plus λθ is
/// scaled by the trust ratio tc·‖θ‖/(‖g‖ + λ‖θ‖); vectors take the plain gradient (no decay); then
/// heavy-ball momentum with dampening (no first-step copy) or its Nesterov form.
struct LARS: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.lars", displayName: "LARS", version: "1.0.0",
                                   summary: "layer-wise trust ratio tc·‖θ‖/(‖g‖ + λ‖θ‖) on matrices, then momentum SGD",
                                   reference: "You, Gitman & Ginsburg 2017; pytorch_optimizer.LARS 4.1.0")
    static let lr = Real.learningRate(1e-3), weightDecay = Real("weight_decay", default: 0, min: 0, flags: [.schedulable, .perGroup], doc: "λ added to the gradient of matrices, inside the trust ratio")
    static let momentum = Real.decay("momentum", 0.9, "momentum μ: b ← μ·b + (1 − dampening)·g", schedulable: true)
    static let dampening = Real.decay("dampening", 0, "dampening of new gradients in the buffer")
    static let trustCoefficient = Real("trust_coefficient", default: 1e-3, min: 0, flags: [.perGroup], doc: "tc in the trust ratio")
    static let nesterov = Flag("nesterov", doc: "step along g + μ·b instead of b")
    static let hyperparameters = schema(lr, weightDecay, momentum, dampening, trustCoefficient, nesterov, Flag.maximize)
    static let capabilities: Capabilities = [.needsShapes]
    static let buffer = StateSlot.likeParameter("momentum_buffer")

    let usesMomentum: Bool
    init(_ hp: HyperparameterValues) throws { usesMomentum = hp[Self.momentum] > 0 }
    var stateSlots: [StateSlot] { usesMomentum ? [Self.buffer] : [] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, x = p.value, sign: Float = hp[Flag.maximize] ? -1 : 1
        var g = p.grad.map { sign * $0 }
        if p.shape.count > 1 {
            let wd = Float(hp[Self.weightDecay])
            let pn = Float(x.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
            let gn = Float(g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
            let den = gn + wd * pn
            let trust = pn > 0 && den > 0 ? Float(hp[Self.trustCoefficient]) * pn / den : 1
            for i in g.indices { g[i] = (g[i] + wd * x[i]) * trust }
        }
        if usesMomentum {
            let mu = Float(hp[Self.momentum]), keep = Float(1 - hp[Self.dampening]), b = try p[Self.buffer], nesterov = hp[Self.nesterov]
            for i in g.indices {
                b[i] = b[i] * mu + keep * g[i]
                g[i] = nesterov ? g[i] + mu * b[i] : b[i]
            }
        }
        let lr = Float(hp[Self.lr])
        for i in g.indices { x[i] += -lr * g[i] }
    }
}
