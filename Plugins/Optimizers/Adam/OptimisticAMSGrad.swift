import GradusPluginKit

/// Optimistic AMSGrad (the paper's form, no extra gradient evaluation): AMSGrad whose second moment
/// tracks the error of a gradient prediction m, an auxiliary iterate w_{t+½} taking the AMSGrad
/// steps, and the parameters placed at w_{t+½} − s·h/D with h = β1·θ_{t−1} + (1 − β1)·m_{t+1}, where
/// m_{t+1} extrapolates the last `span` + 1 gradients by regularized minimal polynomial
/// extrapolation (RMPE: (UᵀU + λI)z = 1, c = z/Σz, m = Σ c_i g_i; 0 until the history is full).
/// Step s = η·√(1 − β2ᵗ)/(1 − β1ᵗ) and D = √v̂ + ε as in the authors' code. No packaged reference:
/// tests check the first step, the reduction to AMSGrad and RMPE on a geometric sequence.
struct OptimisticAMSGrad: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.optimistic_amsgrad", displayName: "Optimistic AMSGrad", version: "1.0.0",
                                   summary: "AMSGrad with an extrapolated next-gradient guess (RMPE) and an optimistic half step",
                                   reference: "Wang, Li, Karimi & Li, An Optimistic Acceleration of AMSGrad for Nonconvex Optimization (ACML 2021)")
    /// Not schedulable: the parameters sit at w_{t+½} − s·h/D, so a step size that changes moves
    /// them even at η = 0 (to the auxiliary iterate).
    static let lr = Real("lr", default: 1e-3, min: 0, flags: [.logScale, .perGroup], doc: "learning rate (constant: the parameters are an offset of the auxiliary iterate)")
    static let beta1 = Real.decay("beta1", 0.9, "decay of the first moment")
    static let beta2 = Real.decay("beta2", 0.99, "decay of the squared prediction error"), eps = Real.epsilon(1e-8, "added to √v̂")
    static let weightDecay = Real.weightDecay(decoupled: false)
    static let span = Integer("span", default: 5, min: 1, max: 64, doc: "gradients differenced for the extrapolation (r; r + 1 are kept)")
    static let ridge = Real("ridge", default: 1e-3, min: 0, flags: [.perGroup, .minExclusive], doc: "λ in (UᵀU + λI)z = 1")
    static let hyperparameters = schema(lr, beta1, beta2, eps, weightDecay, span, ridge, Flag.maximize)
    static let capabilities: Capabilities = [.needsLinalg]
    static let maxV = StateSlot.likeParameter("max_exp_avg_sq"), aux = StateSlot.likeParameter("aux_w")
    static let prediction = StateSlot.likeParameter("prediction"), filled = StateSlot.exactScalar("history_count")

    let history: StateSlot, r: Int
    init(_ hp: HyperparameterValues) throws {
        let r = Int(hp[Self.span])
        self.r = r
        history = .shaped("gradient_history") { s, _ in [r + 1, s.reduce(1, *)] }
    }
    var stateSlots: [StateSlot] { [.step, Self.filled, .expAvg, .expAvgSq, Self.maxV, Self.aux, Self.prediction, history] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, t = try p.advance(.step), n = p.count, x = p.value, beta1 = hp[Self.beta1], beta2 = hp[Self.beta2]
        let sign: Float = hp[Flag.maximize] ? -1 : 1, wd = Float(hp[Self.weightDecay])
        let m = try p[.expAvg], v = try p[.expAvgSq], vmax = try p[Self.maxV], w = try p[Self.aux], guess = try p[Self.prediction]
        let past = try p[history], count = try p.exact(Self.filled)
        if t == 1 { for i in 0..<n { w[i] = x[i] } }
        let s = Float(hp[Self.lr] * (1 - pow(beta2, t)).squareRoot() / (1 - pow(beta1, t)))
        let b1 = Float(beta1), w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2), eps = Float(hp[Self.eps])
        var previousMoment = [Float](repeating: 0, count: n), g = [Float](repeating: 0, count: n)
        for i in 0..<n {
            g[i] = sign * p.grad[i] + wd * x[i]
            previousMoment[i] = m[i]
            m[i] = b1 * m[i] + w1 * g[i]
            let error = g[i] - guess[i]
            v[i] = b2 * v[i] + w2 * error * error
            vmax[i] = max(vmax[i], v[i])
            w[i] -= s * (m[i] / (fastSqrt(vmax[i]) + eps))
        }
        // The history keeps the last r + 1 gradients, oldest first.
        let kept = Int(count.pointee)
        if kept == r + 1 {
            for row in 0..<r { for i in 0..<n { past[row * n + i] = past[(row + 1) * n + i] } }
        }
        let row = min(kept, r)
        for i in 0..<n { past[row * n + i] = g[i] }
        count.pointee = Double(min(kept + 1, r + 1))
        var next = [Float](repeating: 0, count: n)
        if Int(count.pointee) == r + 1 {
            // A Gram matrix too ill-conditioned for float32 (the ridge lost in rounding) predicts nothing this step.
            do { next = try extrapolate(past, n: n, ridge: hp[Self.ridge], ctx.linearAlgebra) } catch PluginError.host(GRADUS_ERR_NUMERIC) {}
        }
        for i in 0..<n {
            let h = b1 * previousMoment[i] + w1 * next[i]
            x[i] = w[i] - s * (h / (fastSqrt(vmax[i]) + eps))
            guess[i] = next[i]
        }
    }

    /// RMPE over the r + 1 rows of `past` (each n long): differences U (n×r), (UᵀU + λI)z = 1 by the
    /// host's Cholesky, c = z/Σz, result Σ_{i<r} c_i·past_i.
    func extrapolate(_ past: UnsafeMutableBufferPointer<Float>, n: Int, ridge: Double, _ la: LinearAlgebra) throws -> [Float] {
        var gram = [Float](repeating: 0, count: r * r)
        for a in 0..<r {
            for b in a..<r {
                var dot = 0.0
                for i in 0..<n {
                    dot += Double(past[(a + 1) * n + i] - past[a * n + i]) * Double(past[(b + 1) * n + i] - past[b * n + i])
                }
                gram[a * r + b] = Float(dot + (a == b ? ridge : 0))
                gram[b * r + a] = gram[a * r + b]
            }
        }
        let l = try la.cholesky(gram, n: r)
        let y = try la.solveTriangular(l, n: r, lower: true, [Float](repeating: 1, count: r), nrhs: 1)
        let z = try la.solveTriangular(l, n: r, lower: true, transpose: true, y, nrhs: 1)
        let total = z.reduce(0, +)
        var out = [Float](repeating: 0, count: n)
        for k in 0..<r {
            let c = z[k] / total
            for i in 0..<n { out[i] += c * past[k * n + i] }
        }
        return out
    }
}
