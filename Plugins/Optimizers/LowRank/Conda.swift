import GradusPluginKit

/// Conda (column-normalized Adam) as pytorch-optimizer's Conda: the first moment stays in the
/// original coordinates; every `update_proj_gap` steps (and at the first) the host's SVD of m gives
/// an orthonormal basis Q (right singular vectors for tall matrices, left for wide, with "std");
/// the second moment lives in the projected coordinates, and the normalized projected momentum is
/// mapped back. Vectors take the same step without projection (plain Adam with the bias correction
/// folded into the step). Decoupled decay after the update.
struct Conda: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.conda", displayName: "Conda", version: "1.0.0",
                                   summary: "Adam with its second moment in an SVD basis of the momentum (column-normalized Adam)",
                                   reference: "Wang et al. 2025 (Conda); pytorch_optimizer.Conda 4.1.0")
    static let lr = Real.learningRate(1e-3), beta1 = Real.decay("beta1", 0.9, "decay of the first moment")
    static let beta2 = Real.decay("beta2", 0.999, "decay of the projected second moment")
    static let weightDecay = Real.weightDecay(decoupled: true)
    static let gap = Integer("update_proj_gap", default: 2000, min: 1, doc: "steps between refreshes of the SVD basis")
    static let scale = Real("scale", default: 1, flags: [.perGroup], doc: "multiplier of the projected-back update")
    static let side = Choice("projection_type", values: ["std", "reverse_std", "left", "right"], default: "std",
                             doc: "std: right basis for tall (rows ≥ cols) and left for wide; reverse_std the opposite; left or right always")
    static let eps = Real.epsilon(1e-8, "added to the root of the projected second moment")
    static let hyperparameters = schema(lr, beta1, beta2, weightDecay, gap, scale, side, eps, Flag.maximize)
    static let capabilities: Capabilities = [.needsShapes, .needsLinalg, .decoupledWeightDecay]

    /// Whether a rows×cols matrix is projected on the right (X·Qᵀ with Q = Vᵀ) under `rule`.
    static func projectsRight(_ rule: String, rows: Int, cols: Int) -> Bool {
        switch rule {
        case "right": return true
        case "left": return false
        case "reverse_std": return rows < cols
        default: return rows >= cols
        }
    }

    let secondMoment: StateSlot, projector: StateSlot
    init(_ hp: HyperparameterValues) throws {
        let rule = hp[Self.side]
        secondMoment = .shaped("exp_avg_sq") { s, _ in
            guard s.count >= 2 else { return s }
            let rows = s[0], cols = s.dropFirst().reduce(1, *), k = min(rows, cols)
            return Self.projectsRight(rule, rows: rows, cols: cols) ? [rows, k] : [k, cols]
        }
        projector = .shaped("projector") { s, _ in
            guard s.count >= 2 else { return [0] }
            let rows = s[0], cols = s.dropFirst().reduce(1, *), k = min(rows, cols)
            return Self.projectsRight(rule, rows: rows, cols: cols) ? [k, cols] : [rows, k]
        }
    }
    var stateSlots: [StateSlot] { [.step, .expAvg, secondMoment, projector] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, t = try p.advance(.step), lr = hp[Self.lr], x = p.value
        let step = Float(-lr * (1 - pow(hp[Self.beta2], t)).squareRoot() / (1 - pow(hp[Self.beta1], t)))
        let w1 = Float(1 - hp[Self.beta1]), b2 = Float(hp[Self.beta2]), w2 = Float(1 - hp[Self.beta2]), eps = Float(hp[Self.eps])
        let sign: Float = hp[Flag.maximize] ? -1 : 1, scale = Float(hp[Self.scale]), keep = Float(1 - lr * hp[Self.weightDecay])
        let m = try p[.expAvg], v = try p[secondMoment]
        var g = p.grad.map { sign * $0 }
        for i in g.indices { m[i] = lerp(m[i], g[i], w1) }
        var back: [Float]
        if p.shape.count >= 2 {
            let rows = p.shape[0], cols = p.count / rows, k = min(rows, cols), right = Self.projectsRight(hp[Self.side], rows: rows, cols: cols)
            let q = try p[projector], la = try ctx.linearAlgebra
            if t == 1 || Int64(t) % hp[Self.gap] == 0 {
                let f = try la.svd(Array(m), m: rows, n: cols)
                // The update does not depend on the basis' signs; fix them per vector for reproducible state.
                let basis = right ? Self.canonical(f.vt, vectors: k, length: cols, vectorsAreRows: true)
                                  : Self.canonical(f.u, vectors: k, length: rows, vectorsAreRows: false)
                for i in basis.indices { q[i] = basis[i] }
            }
            let basis = Array(q), moment = Array(m)
            var projectedGrad = [Float](repeating: 0, count: v.count), projectedMoment = projectedGrad
            if right {
                try la.gemm(g, basis, transposeB: true, into: &projectedGrad, m: rows, n: k, k: cols)
                try la.gemm(moment, basis, transposeB: true, into: &projectedMoment, m: rows, n: k, k: cols)
            } else {
                try la.gemm(basis, transposeA: true, g, into: &projectedGrad, m: k, n: cols, k: rows)
                try la.gemm(basis, transposeA: true, moment, into: &projectedMoment, m: k, n: cols, k: rows)
            }
            for i in 0..<v.count {
                v[i] = v[i] * b2 + w2 * projectedGrad[i] * projectedGrad[i]
                projectedMoment[i] /= fastSqrt(v[i]) + eps
            }
            back = [Float](repeating: 0, count: p.count)
            if right { try la.gemm(projectedMoment, basis, into: &back, m: rows, n: cols, k: k) }
            else { try la.gemm(basis, projectedMoment, into: &back, m: rows, n: cols, k: k) }
        } else {
            for i in g.indices {
                v[i] = v[i] * b2 + w2 * g[i] * g[i]
                g[i] = m[i] / (fastSqrt(v[i]) + eps)
            }
            back = g
        }
        for i in 0..<p.count { x[i] = (x[i] + step * (back[i] * scale)) * keep }
    }

    /// `vectors` singular vectors of `length` (rows of a or columns of a), each flipped so that its
    /// largest-magnitude entry is positive.
    static func canonical(_ a: [Float], vectors: Int, length: Int, vectorsAreRows: Bool) -> [Float] {
        var out = a
        for v in 0..<vectors {
            let index = { (i: Int) in vectorsAreRows ? v * length + i : i * vectors + v }
            var best = 0
            for i in 1..<max(1, length) where abs(a[index(i)]) > abs(a[index(best)]) { best = i }
            if a[index(best)] < 0 { for i in 0..<length { out[index(i)] = -a[index(i)] } }
        }
        return out
    }
}
