import GradusPluginKit

/// LAMB as torch-optimizer's Lamb: Adam's ratio a = m/(√v + ε) (+ λθ) scaled per tensor by the trust
/// ratio ‖θ‖/‖a‖ (‖θ‖ clamped to clamp_value); bias correction only with `debias`. Gradus adds
/// `maximize` (the reference has none) and accepts lr = 0 (the reference wants lr > 0).
struct LAMB: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.lamb", displayName: "LAMB", version: "1.0.0",
                                   summary: "layer-wise trust ratio ‖θ‖/‖a‖ on Adam's direction a = m/(√v + ε) + λθ",
                                   reference: "You et al. 2020; torch_optimizer.Lamb 0.3.0")
    static let lr = Real.learningRate(1e-3)
    static let beta1 = Real.decay("beta1", 0.9, "decay of the first moment"), beta2 = Real.decay("beta2", 0.999, "decay of the second moment")
    static let eps = Real.epsilon(1e-6, "added to √v, outside the root")
    static let weightDecay = Real("weight_decay", default: 0, min: 0, flags: [.schedulable, .perGroup], doc: "λ: λθ is added to Adam's ratio before the trust ratio")
    static let clampValue = Real("clamp_value", default: 10, min: 0, flags: [.perGroup], doc: "upper clamp of ‖θ‖ in the trust ratio")
    static let adam = Flag("adam", doc: "trust ratio 1 (plain Adam direction)"), debias = Flag("debias", doc: "bias-correct the step: η·√(1 − β2ᵗ)/(1 − β1ᵗ)")
    static let hyperparameters = schema(lr, beta1, beta2, eps, weightDecay, clampValue, adam, debias, Flag.maximize)
    static let expAvg = StateSlot.likeParameter("exp_avg"), expAvgSq = StateSlot.likeParameter("exp_avg_sq")

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [.step, Self.expAvg, Self.expAvgSq] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, t = try p.advance(.step), beta1 = hp[Self.beta1], beta2 = hp[Self.beta2]
        let step = hp[Self.lr] * (hp[Self.debias] ? (1 - pow(beta2, t)).squareRoot() / (1 - pow(beta1, t)) : 1)
        let b1 = Float(beta1), w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2), eps = Float(hp[Self.eps]), wd = Float(hp[Self.weightDecay])
        let m = try p[Self.expAvg], v = try p[Self.expAvgSq], x = p.value, grad = p.grad
        let sign: Float = hp[Flag.maximize] ? -1 : 1
        // Pass 1: the moments, and the norms of θ and of Adam's ratio a = m/(√v + ε) + λθ (lane sums).
        var weightLanes = SIMD8<Float>(repeating: 0), ratioLanes = weightLanes, weightNorm = 0.0, ratioNorm = 0.0
        let vb1 = SIMD8<Float>(repeating: b1), vw1 = SIMD8(repeating: w1), vb2 = SIMD8(repeating: b2), vw2 = SIMD8(repeating: w2)
        let veps = SIMD8<Float>(repeating: eps), vwd = SIMD8<Float>(repeating: wd), vsign = SIMD8<Float>(repeating: sign)
        var i = 0
        let end = p.count & ~7
        while i < end {
            let blockEnd = min(i + 1024, end)
            while i < blockEnd {
                let g = vsign * grad[vector: i], xi = x[vector: i]
                let mi = m[vector: i] * vb1 + vw1 * g, vi = v[vector: i] * vb2 + vw2 * g * g
                m[vector: i] = mi
                v[vector: i] = vi
                let a = mi / (vi.squareRoot() + veps) + vwd * xi
                weightLanes += xi * xi
                ratioLanes += a * a
                i += 8
            }
            weightNorm += Double(weightLanes.sum()); ratioNorm += Double(ratioLanes.sum())
            weightLanes = .zero; ratioLanes = .zero
        }
        while i < p.count {
            let g = sign * grad[i]
            m[i] = m[i] * b1 + w1 * g
            v[i] = v[i] * b2 + w2 * g * g
            let a = m[i] / (fastSqrt(v[i]) + eps) + wd * x[i]
            weightNorm += Double(x[i] * x[i]); ratioNorm += Double(a * a)
            i += 1
        }
        weightNorm += Double(weightLanes.sum()); ratioNorm += Double(ratioLanes.sum())
        let wn = min(Float(weightNorm.squareRoot()), Float(hp[Self.clampValue])), an = Float(ratioNorm.squareRoot())
        let trust: Float = hp[Self.adam] || wn == 0 || an == 0 ? 1 : wn / an
        let coefficient = -(Float(step) * trust)
        // Pass 2: θ += −step·trust·a, recomputing a from the stored moments.
        forEachChunk(p.count) { range in
            for i in range { x[i] += coefficient * (m[i] / (fastSqrt(v[i]) + eps) + wd * x[i]) }
        }
    }
}
