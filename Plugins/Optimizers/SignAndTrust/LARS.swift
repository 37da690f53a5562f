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
        let hp = ctx.hyperparameters, x = p.value, grad = p.grad, sign: Float = hp[Flag.maximize] ? -1 : 1
        var wd: Float = 0, trust: Float = 1
        if p.shape.count > 1 {
            wd = Float(hp[Self.weightDecay])
            let pn = Float(sumOfSquares(UnsafeBufferPointer(x)).squareRoot()), gn = Float(sumOfSquares(grad).squareRoot())
            let den = gn + wd * pn
            trust = pn > 0 && den > 0 ? Float(hp[Self.trustCoefficient]) * pn / den : 1
        }
        let lr = Float(hp[Self.lr])
        let mu = Float(hp[Self.momentum]), keep = Float(1 - hp[Self.dampening]), nesterov = hp[Self.nesterov]
        let b = usesMomentum ? try p[Self.buffer] : x
        @inline(__always) func body(_ range: Range<Int>, _ momentum: Bool, _ nesterov: Bool) {
            for i in range {
                var g = (sign * grad[i] + wd * x[i]) * trust
                if momentum {
                    b[i] = b[i] * mu + keep * g
                    g = nesterov ? g + mu * b[i] : b[i]
                }
                x[i] += -lr * g
            }
        }
        forEachChunk(p.count) { r in
            switch (usesMomentum, nesterov) {
            case (true, true): body(r, true, true)
            case (true, false): body(r, true, false)
            default: body(r, false, false)
            }
        }
    }
}
