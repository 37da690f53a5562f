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
        let b = try p[Self.buffer], x = p.value, grad = p.grad, keepNew = Float(1 - hp[Self.dampening]), m = Float(mu)
        let wd = hp[Self.weightDecay], nesterov = hp[Self.nesterov], step = Float(-lr)
        @inline(__always) func direction(_ i: Int, _ nesterov: Bool) -> Float {
            let g = sign * grad[i]
            b[i] = (b[i] * m).addingProduct(keepNew, g)  // one rounding, as torch's add_(g, alpha) compiles (FMA)
            return nesterov ? g + m * b[i] : b[i]
        }
        guard p.shape.count > 1 else {
            // Vectors are never projected: one fused pass.
            let keep = Float(1 - lr * wd / (1 - mu))
            @inline(__always) func body(_ range: Range<Int>, _ nesterov: Bool, _ decays: Bool) {
                for i in range { x[i] = (decays ? x[i] * keep : x[i]) + step * direction(i, nesterov) }
            }
            forEachChunk(p.count) { r in
                switch (nesterov, wd > 0) {
                case (true, true): body(r, true, true)
                case (true, false): body(r, true, false)
                case (false, true): body(r, false, true)
                case (false, false): body(r, false, false)
                }
            }
            return
        }
        var d = (0..<p.count).map { direction($0, nesterov) }
        let ratio = RadialProjection.apply(&d, weights: x, gradient: grad.map { sign * $0 }, shape: p.shape, delta: hp[ProjectionKeys.delta],
                                           wdRatio: hp[ProjectionKeys.wdRatio], eps: hp[ProjectionKeys.eps])
        // Without Nesterov the reference's update is the buffer itself, so a projection also projects the buffer.
        if !nesterov { for i in d.indices { b[i] = d[i] } }
        let keep = Float(1 - lr * wd * ratio / (1 - mu))
        for i in d.indices { x[i] = (wd > 0 ? x[i] * keep : x[i]) + step * d[i] }
    }
}
