import GradusPluginKit

/// RMSprop as torch.optim.RMSprop: v ← α·v + (1 − α)·g², optionally centered (v − ḡ²) and with
/// a momentum buffer that accumulates g/D; ε outside the root.
struct RMSprop: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.rmsprop", displayName: "RMSprop", version: "1.0.0",
                                   summary: "steps scaled by a running RMS of the gradient; centered and momentum variants (PyTorch form)",
                                   reference: "Tieleman & Hinton 2012; Graves 2013 (centered); torch.optim.RMSprop")
    static let lr = Real.learningRate(1e-2), alpha = Real.decay("alpha", 0.99, "decay of the squared-gradient average")
    static let eps = Real.epsilon(1e-8, "added to the root"), weightDecay = Real.weightDecay(decoupled: false)
    static let momentum = Real.decay("momentum", 0, "momentum of the buffer b ← μ·b + g/D")
    static let centered = Flag("centered", doc: "divide by the root of the variance estimate v − ḡ² instead of √v")
    static let hyperparameters = schema(lr, alpha, eps, weightDecay, momentum, centered, Flag.maximize)
    static let squareAvg = StateSlot.likeParameter("square_avg"), gradAvg = StateSlot.likeParameter("grad_avg")
    static let buffer = StateSlot.likeParameter("momentum_buffer")

    let isCentered: Bool, hasMomentum: Bool
    init(_ hp: HyperparameterValues) throws { isCentered = hp[Self.centered]; hasMomentum = hp[Self.momentum] > 0 }
    var stateSlots: [StateSlot] { [.step, Self.squareAvg] + (isCentered ? [Self.gradAvg] : []) + (hasMomentum ? [Self.buffer] : []) }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters
        _ = try p.advance(.step)
        let a = Float(hp[Self.alpha]), w = Float(1 - hp[Self.alpha]), eps = Float(hp[Self.eps]), wd = Float(hp[Self.weightDecay])
        let lr = Float(hp[Self.lr]), mu = Float(hp[Self.momentum]), sign: Float = hp[Flag.maximize] ? -1 : 1
        let v = try p[Self.squareAvg], x = p.value, grad = p.grad
        let gbar = isCentered ? try p[Self.gradAvg] : v, b = hasMomentum ? try p[Self.buffer] : v
        @inline(__always) func body(_ range: Range<Int>, _ centered: Bool, _ momentum: Bool) {
            for i in range {
                let g = sign * grad[i] + wd * x[i]
                v[i] = v[i] * a + w * g * g
                var avg: Float
                if centered {
                    gbar[i] = lerp(gbar[i], g, w)
                    avg = fastSqrt(v[i] - gbar[i] * gbar[i])
                } else {
                    avg = fastSqrt(v[i])
                }
                avg += eps
                if momentum {
                    b[i] = b[i] * mu + g / avg
                    x[i] += -lr * b[i]
                } else {
                    x[i] += -lr * (g / avg)
                }
            }
        }
        forEachChunk(p.count) { range in
            switch (isCentered, hasMomentum) {
            case (true, true): body(range, true, true)
            case (true, false): body(range, true, false)
            case (false, true): body(range, false, true)
            case (false, false): body(range, false, false)
            }
        }
    }
}
