import GradusPluginKit

/// Adafactor as torch.optim.Adafactor: for tensors of 2 or more dimensions the second moment is
/// factored over the last two axes into row and column averages (shaped slots `row_var` and
/// `col_var`), for vectors it is kept whole (`variance`); relative step size
/// α = max(ε2, RMS(θ))·min(η, 1/√t), update clipped to RMS ≤ d, decay β2_t = 1 − t^(beta2_decay).
struct Adafactor: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.adafactor", displayName: "Adafactor", version: "1.0.0",
                                   summary: "factored second moment (row × column averages) for matrices, relative steps, update clipping",
                                   reference: "Shazeer & Stern 2018; torch.optim.Adafactor")
    static let lr = Real.learningRate(1e-2)
    static let beta2Decay = Real("beta2_decay", default: -0.8, max: 0, flags: [.perGroup], doc: "the second-moment weight is t^beta2_decay")
    static let eps1 = Real.epsilon(0x1p-23, "floor of the variance estimate (squared) and of the row mean; torch's None = float32 machine ε", id: "eps1")
    static let eps2 = Real("eps2", default: 1e-3, min: 0, flags: [.perGroup], doc: "floor of RMS(θ) in the relative step size")
    static let d = Real("d", default: 1, min: 0, flags: [.perGroup, .minExclusive], doc: "clipping threshold: the update's RMS is limited to d")
    static let weightDecay = Real.weightDecay(decoupled: true)
    static let hyperparameters = schema(lr, beta2Decay, eps1, eps2, d, weightDecay, Flag.maximize)
    static let capabilities: Capabilities = [.decoupledWeightDecay, .needsShapes]
    /// Row and column factors over the last two axes (empty for vectors), the whole second moment for vectors.
    static let rowVar = StateSlot.shaped("row_var") { s, _ in s.count >= 2 ? Array(s.dropLast()) + [1] : [0] }
    static let colVar = StateSlot.shaped("col_var") { s, _ in s.count >= 2 ? Array(s.dropLast(2)) + [1, s[s.count - 1]] : [0] }
    static let variance = StateSlot.shaped("variance") { s, _ in s.count >= 2 ? [0] : s }

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [.step, Self.rowVar, Self.colVar, Self.variance] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, t = try p.advance(.step), x = p.value, grad = p.grad, n = p.count
        let w = Float(pow(t, hp[Self.beta2Decay])), rho = min(hp[Self.lr], 1 / t.squareRoot())
        let alpha = max(hp[Self.eps2], Double(norm(UnsafeBufferPointer(x))) / Double(n).squareRoot()) * rho
        let keep = Float(1 - hp[Self.lr] * hp[Self.weightDecay]), sign: Float = hp[Flag.maximize] ? -1 : 1
        for i in 0..<n { x[i] *= keep }
        var update = [Float](repeating: 0, count: n), floor = Float(hp[Self.eps1] * hp[Self.eps1])
        let shape = p.shape
        if shape.count >= 2 {
            let cols = shape[shape.count - 1], rows = shape[shape.count - 2], batches = n / max(1, rows * cols)
            let r = try p[Self.rowVar], c = try p[Self.colVar], eps1 = Float(hp[Self.eps1])
            for b in 0..<batches {
                let g = { (i: Int, j: Int) in sign * grad[(b * rows + i) * cols + j] }
                for i in 0..<rows {
                    let rowNorm = norm((0..<cols).map { g(i, $0) })
                    r[b * rows + i] = lerp(r[b * rows + i], rowNorm * rowNorm / Float(cols), w)
                }
                for j in 0..<cols {
                    let colNorm = norm((0..<rows).map { g($0, j) })
                    c[b * cols + j] = lerp(c[b * cols + j], colNorm * colNorm / Float(rows), w)
                }
                let rowMean = max((0..<rows).reduce(Float(0)) { $0 + r[b * rows + $1] } / Float(rows), eps1)
                for i in 0..<rows {
                    for j in 0..<cols {
                        let estimate = r[b * rows + i] * c[b * cols + j] / rowMean
                        update[(b * rows + i) * cols + j] = g(i, j) / fastSqrt(max(estimate, floor))
                    }
                }
            }
        } else {
            let v = try p[Self.variance]
            for i in 0..<n {
                let g = sign * grad[i]
                v[i] = lerp(v[i], g * g, w)
                update[i] = g / fastSqrt(max(v[i], floor))
            }
        }
        let clip = max(1, Double(norm(update)) / (Double(n).squareRoot() * hp[Self.d]))
        let step = Float(-alpha / clip)
        for i in 0..<n { x[i] += step * update[i] }
    }

    /// The float32 2-norm, accumulated in double and rounded once.
    func norm<C: Collection>(_ values: C) -> Float where C.Element == Float {
        Float(values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
    }
}
