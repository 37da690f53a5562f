import GradusPluginKit

/// ROOT as the authors' example code: heavy-ball momentum (Nesterov by default), robust to outliers
/// by clipping entries beyond the 0.9 quantile of |M̃| (soft-thresholding), orthogonalized by
/// Newton–Schulz with coefficients fitted per matrix shape (the authors' table; Muon's elsewhere),
/// η scaled by 0.2·√max(rows, cols), decoupled decay with the base η. No packaged reference: tests
/// check the threshold, the scale invariance and a hand-computed rank-one step.
struct ROOT: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.root", displayName: "ROOT", version: "1.0.0",
                                   summary: "outlier-clipped momentum orthogonalized with shape-fitted Newton–Schulz coefficients; 2-D weights only",
                                   reference: "ROOT (2025, arXiv 2511.20626); huawei-noah/noah-research ROOT example")
    static let lr = Real.learningRate(1e-3), weightDecay = Real.weightDecay(0.1, decoupled: true)
    static let momentum = Real.decay("momentum", 0.95, "heavy-ball momentum μ: b ← μ·b + g", schedulable: true)
    static let nesterov = Flag("nesterov", default: true, doc: "use g + μ·b instead of b")
    static let rootSteps = Integer("root_steps", default: 5, min: 1, max: 99, doc: "Newton–Schulz iterations")
    static let quantile = Real("threshold_quantile", default: 0.9, min: 0, max: 1, flags: [.perGroup], doc: "entries of |M̃| beyond this quantile are clipped to it")
    static let hyperparameters = schema(lr, weightDecay, momentum, nesterov, rootSteps, quantile, Flag.maximize)
    static let capabilities: Capabilities = [.matrixOnly, .needsShapes, .decoupledWeightDecay, .needsLinalg]

    /// The authors' coefficients by (min, max) of the matrix shape; Muon's for any other shape.
    static let coefficients: [[Int]: (Float, Float, Float)] = [
        [2048, 2048]: (3.4916, -4.8224, 2.1095), [2048, 16384]: (3.1943, -3.8221, 1.5322),
        [2048, 3072]: (3.4509, -4.5790, 1.9325), [2048, 8192]: (2.9794, -3.6674, 1.6207),
    ]

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [Muon.buffer] }

    /// The q-quantile of `values` with linear interpolation between order statistics (torch.quantile).
    static func quantile(_ values: [Float], _ q: Double) -> Float {
        let sorted = values.sorted(), position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down)), upper = min(lower + 1, sorted.count - 1), t = Float(position - Double(lower))
        return sorted[lower] + t * (sorted[upper] - sorted[lower])
    }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, (rows, cols) = p.matrixShape, lr = hp[Self.lr], x = p.value, sign: Float = hp[Flag.maximize] ? -1 : 1
        let mu = Float(hp[Self.momentum]), nesterov = hp[Self.nesterov], b = try p[Muon.buffer]
        var m = [Float](repeating: 0, count: p.count)
        for i in m.indices {
            let g = sign * p.grad[i]
            b[i] = mu * b[i] + g
            m[i] = nesterov ? g + mu * b[i] : b[i]
        }
        let tau = Self.quantile(m.map(abs), hp[Self.quantile]) + 1e-9
        let clipped = m.map { min(max($0, -tau), tau) }
        let (a, bb, c) = Self.coefficients[[min(rows, cols), max(rows, cols)]] ?? (3.4445, -4.7750, 2.0315)
        // ROOT normalizes by ‖B‖_F + 1e-7 (not Muon's max with ε).
        let norm = NewtonSchulz.norm(clipped)
        let ns = NewtonSchulz(a: a, b: bb, c: c, steps: Int(hp[Self.rootSteps]), eps: 1e-7, normalizesInput: false)
        let o = try ns(clipped.map { $0 / (norm + 1e-7) }, rows: rows, cols: cols, ctx.linearAlgebra)
        let keep = Float(1 - lr * hp[Self.weightDecay]), step = Float(-lr * 0.2 * Double(max(rows, cols)).squareRoot())
        for i in o.indices { x[i] = x[i] * keep + step * o[i] }
    }
}
