import GradusPluginKit

/// NorMuon as pytorch-optimizer's NorMuon: Muon's orthogonalized momentum O, then each row (output
/// neuron) divided by the root of an EMA of its mean square (one value per row, a shaped slot), the
/// result rescaled to O's norm ("preserve_norm", the official code) or to RMS 0.2 ("match_rms", the
/// paper).
struct NorMuon: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.normuon", displayName: "NorMuon", version: "1.0.0",
                                   summary: "Muon with per-neuron second-moment normalization of the orthogonalized update; 2-D weights only",
                                   reference: "Li et al. 2025; pytorch_optimizer.NorMuon 4.1.0")
    static let lr = Real.learningRate(0.02), momentum = Real.decay("momentum", 0.95, "EMA momentum μ", schedulable: true)
    static let beta2 = Real.decay("beta2", 0.95, "decay of the per-row mean square (no bias correction)")
    static let weightDecay = Real.weightDecay(decoupled: nil)
    static let nesterov = Muon.nesterov, nsSteps = Muon.nsSteps, nsA = Muon.nsA, nsB = Muon.nsB, nsC = Muon.nsC
    static let updateScale = Choice("update_scale", values: ["preserve_norm", "match_rms"], default: "preserve_norm",
                                    doc: "rescale the normalized update to O's norm (with η·√max(1, rows/cols)) or to RMS 0.2 (with η)")
    static let adjustedLR = Flag("use_adjusted_lr", doc: "with preserve_norm: η·0.2·√max(rows, cols) instead of η·√max(1, rows/cols)")
    static let eps = Real.epsilon(1e-10, "added to the per-row root and to the norm in rescaling")
    static let hyperparameters = schema(lr, momentum, beta2, weightDecay, Flag.weightDecouple(), nesterov, nsSteps, nsA, nsB, nsC,
                                        updateScale, adjustedLR, eps, Flag.maximize)
    static let capabilities: Capabilities = [.matrixOnly, .needsShapes, .needsLinalg, .decoupledWeightDecay]
    static let rowMoment = StateSlot.shaped("second_momentum_buffer") { s, _ in [s.first ?? 1, 1] }

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [Muon.buffer, Self.rowMoment] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, (rows, cols) = p.matrixShape, lr = hp[Self.lr], x = p.value, sign: Float = hp[Flag.maximize] ? -1 : 1
        let decay = WeightDecay(hp[Self.weightDecay], lr: lr, decoupled: hp[Flag.weightDecouple()])
        let mu = Float(hp[Self.momentum]), w = Float(1 - hp[Self.momentum]), nesterov = hp[Self.nesterov], b = try p[Muon.buffer]
        var u = [Float](repeating: 0, count: p.count)
        for i in u.indices {
            x[i] *= decay.keep
            let g = sign * p.grad[i] + decay.coupled * x[i]
            b[i] = lerp(b[i], g, w)
            u[i] = nesterov ? lerp(g, b[i], mu) : b[i]
        }
        let ns = NewtonSchulz(a: Float(hp[Self.nsA]), b: Float(hp[Self.nsB]), c: Float(hp[Self.nsC]), steps: Int(hp[Self.nsSteps]), eps: 1e-7)
        var o = try ns(u, rows: rows, cols: cols, ctx.linearAlgebra)
        let originalNorm = NewtonSchulz.norm(o), v = try p[Self.rowMoment], w2 = Float(1 - hp[Self.beta2]), eps = Float(hp[Self.eps])
        for r in 0..<rows {
            let row = o[(r * cols)..<((r + 1) * cols)]
            v[r] = lerp(v[r], row.reduce(Float(0)) { $0 + $1 * $1 } / Float(cols), w2)
            let den = fastSqrt(v[r]) + eps
            for j in 0..<cols { o[r * cols + j] /= den }
        }
        let matchRMS = hp[Self.updateScale] == "match_rms"
        let target = matchRMS ? Float(0.2 * Double(rows * cols).squareRoot()) : originalNorm
        let scale = target / (NewtonSchulz.norm(o) + eps)
        let lrScale = matchRMS ? 1 : hp[Self.adjustedLR] ? Muon.lrScale("match_rms_adamw", rows: rows, cols: cols) : Muon.lrScale("original", rows: rows, cols: cols)
        let step = Float(-lr * lrScale)
        for i in o.indices { x[i] += step * (o[i] * scale) }
    }
}
