import GradusPluginKit

/// AuON (the paper's form): Nesterov EMA momentum U, normalized X = U/(‖U‖_F + 1e-7), then the
/// hyperbolic-cosine brake r = √mean(cosh²(γ·X)) in place of orthogonalization (linear time):
/// θ ← θ − η·√max(1, rows/cols)·X/(r + 1e-8), after decoupled decay. `normalize_update=false` with
/// γ = 1.5 gives the authors' current code (U itself divided by r); `ns_steps` > 0 is Hybrid-AuON
/// (that many Newton–Schulz iterations on X before the brake; the paper uses 1). No packaged
/// reference: tests check hand-computed steps and invariants.
struct AuON: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.auon", displayName: "AuON", version: "1.0.0",
                                   summary: "momentum normalized and braked by a cosh RMS instead of orthogonalized (linear time); 2-D weights only",
                                   reference: "AuON (2025), ryyzn9/AuON; paper §3.1-3.2")
    static let lr = Real.learningRate(0.055), momentum = Real.decay("momentum", 0.95, "EMA momentum μ (Nesterov form)", schedulable: true)
    static let weightDecay = Real.weightDecay(decoupled: true)
    static let gamma = Real("gamma", default: 1, min: 0, flags: [.perGroup, .minExclusive], doc: "γ in cosh(γ·X) (the paper: 1; the authors' current code: 1.5)")
    static let normalize = Flag("normalize_update", default: true, doc: "divide the normalized X by r (the paper) instead of U itself (the current code)")
    static let nsSteps = Integer("ns_steps", default: 0, min: 0, max: 99, doc: "Newton–Schulz iterations before the brake (Hybrid-AuON: 1 in the paper)")
    static let hyperparameters = schema(lr, momentum, weightDecay, gamma, normalize, nsSteps, Flag.maximize)
    static let capabilities: Capabilities = [.matrixOnly, .needsShapes, .decoupledWeightDecay, .needsLinalg]

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [Muon.buffer] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, (rows, cols) = p.matrixShape, lr = hp[Self.lr], x = p.value, sign: Float = hp[Flag.maximize] ? -1 : 1
        let keep = Float(1 - lr * hp[Self.weightDecay]), mu = Float(hp[Self.momentum]), w = Float(1 - hp[Self.momentum]), b = try p[Muon.buffer]
        var u = [Float](repeating: 0, count: p.count)
        for i in u.indices {
            x[i] *= keep
            let g = sign * p.grad[i]
            b[i] = lerp(b[i], g, w)
            u[i] = lerp(g, b[i], mu)
        }
        let norm = NewtonSchulz.norm(u)
        guard norm > 0 else { return }
        var xs = u.map { $0 / (norm + 1e-7) }
        if hp[Self.nsSteps] > 0 {
            let ns = NewtonSchulz(a: 3.4445, b: -4.7750, c: 2.0315, steps: Int(hp[Self.nsSteps]), eps: 1e-7, normalizesInput: false)
            xs = try ns(xs, rows: rows, cols: cols, ctx.linearAlgebra)
        }
        let gamma = hp[Self.gamma]
        let r = Float((xs.reduce(0.0) { $0 + pow(cosh(gamma * Double($1)), 2) } / Double(xs.count)).squareRoot())
        let direction = hp[Self.normalize] ? xs : u
        let step = Float(-lr * max(1, Double(rows) / Double(cols)).squareRoot())
        for i in direction.indices { x[i] += step * (direction[i] / (r + 1e-8)) }
    }
}
