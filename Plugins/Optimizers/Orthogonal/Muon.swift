import GradusPluginKit

/// Muon as torch.optim.Muon: EMA momentum (Nesterov by default), Newton–Schulz orthogonalization
/// of the update in float32, decoupled decay with the unadjusted η, and η scaled by
/// √max(1, rows/cols) ("original") or 0.2·√max(rows, cols) ("match_rms_adamw"). Matrices only:
/// route every other parameter to another optimizer (e.g. optimizer=adamw, route.matrix=muon).
struct Muon: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.muon", displayName: "Muon", version: "1.0.0",
                                   summary: "momentum orthogonalized by Newton–Schulz (float32), shape-scaled learning rate; 2-D weights only",
                                   reference: "Jordan et al. 2024; Liu et al. 2025; torch.optim.Muon 2.13")
    static let lr = Real.learningRate(1e-3), weightDecay = Real.weightDecay(0.1, decoupled: true)
    static let momentum = Real.decay("momentum", 0.95, "EMA momentum μ: b ← μ·b + (1 − μ)·g", schedulable: true)
    static let nesterov = Flag("nesterov", default: true, doc: "orthogonalize (1 − μ)·g + μ·b instead of b")
    static let nsA = Real("ns_a", default: 3.4445, flags: [.perGroup], doc: "Newton–Schulz coefficient a")
    static let nsB = Real("ns_b", default: -4.7750, flags: [.perGroup], doc: "Newton–Schulz coefficient b")
    static let nsC = Real("ns_c", default: 2.0315, flags: [.perGroup], doc: "Newton–Schulz coefficient c")
    static let eps = Real.epsilon(1e-7, "floor of ‖U‖_F before Newton–Schulz")
    static let nsSteps = Integer("ns_steps", default: 5, min: 1, max: 99, doc: "Newton–Schulz iterations")
    static let adjustLR = Choice("adjust_lr_fn", values: ["original", "match_rms_adamw"], default: "original",
                                 doc: "η·√max(1, rows/cols) (original) or η·0.2·√max(rows, cols) (match AdamW's update RMS)")
    static let hyperparameters = schema(lr, weightDecay, momentum, nesterov, nsA, nsB, nsC, eps, nsSteps, adjustLR, Flag.maximize)
    static let capabilities: Capabilities = [.matrixOnly, .needsShapes, .needsLinalg, .decoupledWeightDecay]
    static let buffer = StateSlot.likeParameter("momentum_buffer")

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [Self.buffer] }

    /// The learning-rate multiplier of `adjust_lr_fn` for a rows × cols matrix.
    static func lrScale(_ rule: String, rows: Int, cols: Int) -> Double {
        rule == "match_rms_adamw" ? 0.2 * Double(max(rows, cols)).squareRoot() : max(1, Double(rows) / Double(cols)).squareRoot()
    }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, (rows, cols) = p.matrixShape, lr = hp[Self.lr], sign: Float = hp[Flag.maximize] ? -1 : 1
        let mu = Float(hp[Self.momentum]), w = Float(1 - hp[Self.momentum]), nesterov = hp[Self.nesterov], b = try p[Self.buffer]
        var u = [Float](repeating: 0, count: p.count)
        for i in u.indices {
            let g = sign * p.grad[i]
            b[i] = lerp(b[i], g, w)
            u[i] = nesterov ? lerp(g, b[i], mu) : b[i]
        }
        let ns = NewtonSchulz(a: Float(hp[Self.nsA]), b: Float(hp[Self.nsB]), c: Float(hp[Self.nsC]), steps: Int(hp[Self.nsSteps]), eps: Float(hp[Self.eps]))
        let o = try ns(u, rows: rows, cols: cols, ctx.linearAlgebra)
        let keep = Float(1 - lr * hp[Self.weightDecay]), step = Float(-lr * Self.lrScale(hp[Self.adjustLR], rows: rows, cols: cols))
        let x = p.value
        for i in o.indices { x[i] = x[i] * keep + step * o[i] }
    }
}
