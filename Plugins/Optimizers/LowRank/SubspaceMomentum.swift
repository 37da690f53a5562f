import GradusPluginKit

/// Subspace-Momentum with Subset-Norm (SN-SM, the authors' AdamSNSM): momentum is kept only in a
/// rank-r subspace of each matrix (P from the SVD of the current gradient at the first step and every
/// `update_proj_gap` steps, on the shorter side), the orthogonal complement of the gradient takes a
/// plain step, and the sum is divided by a Subset-Norm second moment (one value per row of a tall
/// matrix, per column of a wide one, summing g² over the shorter side); decoupled decay after the
/// step. At a refresh the momentum restarts in the new basis (the authors' code mixes the old
/// momentum into one last update). Vectors take Adam. No packaged reference.
struct SubspaceMomentum: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.subspace_momentum", displayName: "Subspace-Momentum (SN-SM)", version: "1.0.0",
                                   summary: "momentum in a rank-r gradient subspace, SGD in its complement, Subset-Norm step sizes",
                                   reference: "Nguyen et al., Subset-Norm and Subspace-Momentum (ICML 2025); timmytonga/sn-sm")
    static let lr = Real.learningRate(0.05), beta1 = Real.decay("beta1", 0.9, "decay of the subspace momentum")
    static let beta2 = Real("beta2", default: 0.999, min: 0, max: 1, flags: [.perGroup], doc: "decay of the Subset-Norm second moment (1: AdaGrad-style sum)")
    static let eps = Real.epsilon(1e-6, "added to the root"), weightDecay = Real.weightDecay(decoupled: true)
    static let rank = Integer("rank", default: 128, min: 1, doc: "dimension r of the momentum subspace (at most the shorter side)")
    static let gap = Integer("update_proj_gap", default: 200, min: 1, doc: "steps between SVD refreshes of the subspace")
    static let correctBias = Flag("correct_bias", default: true, doc: "step η·√(1 − β2ᵗ)/(1 − β1ᵗ) instead of η")
    static let hyperparameters = schema(lr, beta1, beta2, eps, weightDecay, rank, gap, correctBias, Flag.maximize)
    static let capabilities: Capabilities = [.needsShapes, .needsLinalg, .decoupledWeightDecay]

    /// (rows, cols, r, tall) of a matrix parameter, nil for vectors.
    static func layout(_ s: [Int], rank: Int) -> (rows: Int, cols: Int, r: Int, tall: Bool)? {
        guard s.count >= 2 else { return nil }
        let rows = s[0], cols = s.dropFirst().reduce(1, *)
        return (rows, cols, min(rank, min(rows, cols)), rows >= cols)
    }

    let projector: StateSlot, momentum: StateSlot, second: StateSlot
    init(_ hp: HyperparameterValues) throws {
        let rank = Int(hp[Self.rank])
        projector = .shaped("projector") { s, _ in Self.layout(s, rank: rank).map { $0.tall ? [$0.r, $0.cols] : [$0.rows, $0.r] } ?? [0] }
        momentum = .shaped("exp_avg") { s, _ in Self.layout(s, rank: rank).map { $0.tall ? [$0.rows, $0.r] : [$0.r, $0.cols] } ?? s }
        second = .shaped("exp_avg_sq") { s, _ in Self.layout(s, rank: rank).map { $0.tall ? [$0.rows, 1] : [1, $0.cols] } ?? s }
    }
    var stateSlots: [StateSlot] { [.step, projector, momentum, second] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, t = try p.advance(.step), lr = hp[Self.lr], x = p.value, n = p.count
        let sign: Float = hp[Flag.maximize] ? -1 : 1, g = p.grad.map { sign * $0 }
        // β2 = 1 is AdaGrad's running sum (v += s), with no second-moment bias correction.
        let sum = hp[Self.beta2] == 1
        let w1 = Float(1 - hp[Self.beta1]), b1 = Float(hp[Self.beta1]), b2 = Float(hp[Self.beta2]), w2 = sum ? 1 : Float(1 - hp[Self.beta2]), eps = Float(hp[Self.eps])
        let secondCorrection = sum ? 1 : (1 - pow(hp[Self.beta2], t)).squareRoot()
        let stepSize = Float(-lr * (hp[Self.correctBias] ? secondCorrection / (1 - pow(hp[Self.beta1], t)) : 1))
        let keep = Float(1 - lr * hp[Self.weightDecay]), m = try p[momentum], v = try p[second]
        guard let (rows, cols, r, tall) = Self.layout(p.shape, rank: Int(hp[Self.rank])) else {
            for i in 0..<n {       // vectors: Adam
                m[i] = b1 * m[i] + w1 * g[i]
                v[i] = b2 * v[i] + w2 * g[i] * g[i]
                x[i] = (x[i] + stepSize * (m[i] / (fastSqrt(v[i]) + eps))) * keep
            }
            return
        }
        let la = try ctx.linearAlgebra, q = try p[projector]
        if t == 1 || Int64(t) % hp[Self.gap] == 0 {
            let f = try la.svd(g, m: rows, n: cols)
            if tall { for a in 0..<r { for j in 0..<cols { q[a * cols + j] = f.vt[a * cols + j] } } }
            else { for i in 0..<rows { for a in 0..<r { q[i * r + a] = f.u[i * min(rows, cols) + a] } } }
            for i in 0..<m.count { m[i] = 0 }
        }
        let basis = Array(q)
        // Pg, the momentum in the subspace, and both mapped back to the full shape.
        var pg = [Float](repeating: 0, count: m.count), back = [Float](repeating: 0, count: n), backG = back
        if tall { try la.gemm(g, basis, transposeB: true, into: &pg, m: rows, n: r, k: cols) }
        else { try la.gemm(basis, transposeA: true, g, into: &pg, m: r, n: cols, k: rows) }
        for i in 0..<m.count { m[i] = b1 * m[i] + w1 * pg[i] }
        let moment = Array(m)
        if tall {
            try la.gemm(moment, basis, into: &back, m: rows, n: cols, k: r)
            try la.gemm(pg, basis, into: &backG, m: rows, n: cols, k: r)
        } else {
            try la.gemm(basis, moment, into: &back, m: rows, n: cols, k: r)
            try la.gemm(basis, pg, into: &backG, m: rows, n: cols, k: r)
        }
        // Subset-Norm: Σ g² over the shorter side, one value per row (tall) or column (wide).
        for k in 0..<(tall ? rows : cols) {
            var s: Float = 0
            for l in 0..<(tall ? cols : rows) { let e = tall ? g[k * cols + l] : g[l * cols + k]; s += e * e }
            v[k] = b2 * v[k] + w2 * s
        }
        for i in 0..<rows {
            for j in 0..<cols {
                let e = i * cols + j, den = fastSqrt(v[tall ? i : j]) + eps
                x[e] = (x[e] + stepSize * ((back[e] + (g[e] - backG[e])) / den)) * keep
            }
        }
    }
}
