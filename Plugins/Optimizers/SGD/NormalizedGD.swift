import GradusPluginKit

/// Normalized LR+GD: gradient descent whose step grows as the loss falls, θ ← θ − γ·β_t·∇f(θ).
/// The paper (Tyurin 2024, §6) takes β_t = 1/mean_i σ(−m_i) over the margins m_i of logistic
/// regression; optimizers see the loss but not per-sample margins, so Gradus uses β_t = 1/f(θ),
/// which agrees with it when the margins are large (log(1 + e^(−m)) ≈ e^(−m) ≈ σ(−m)), capped at
/// `max_scale` because β_t grows without bound on separable data. Needs the loss. No packaged
/// reference: tests check hand-computed steps.
struct NormalizedGD: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.normalized_gd", displayName: "Normalized LR+GD", version: "1.0.0",
                                   summary: "gradient descent with step γ/f(θ) (capped): large steps as the loss vanishes",
                                   reference: "Tyurin 2024, From Logistic Regression to the Perceptron Algorithm, §6")
    static let lr = Real.learningRate(1), maxScale = Real("max_scale", default: 1e6, min: 1, flags: [.perGroup], doc: "cap of the multiplier 1/f")
    static let hyperparameters = schema(lr, maxScale, Flag.maximize)
    static let capabilities: Capabilities = [.needsLoss]

    init(_ hp: HyperparameterValues) throws {}

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        guard let loss = ctx.loss else { throw PluginError.unsupported("normalized_gd needs the batch loss, which this run does not give") }
        guard loss.isFinite, loss > 0 || ctx.hyperparameters[Flag.maximize] else {
            throw PluginError.numeric("normalized_gd divides by the loss, which is \(loss); it needs a positive loss (a logistic or cross-entropy loss)")
        }
        let hp = ctx.hyperparameters, scale = min(1 / abs(loss), hp[Self.maxScale])
        let step = Float(-hp[Self.lr] * scale) * (hp[Flag.maximize] ? -1 : 1), x = p.value, grad = p.grad
        forEachChunk(p.count) { range in for i in range { x[i] += step * grad[i] } }
    }
}
