import GradusPluginKit

/// D-Adaptation Adam as dadaptation 3.2 (DAdaptAdam): Adam whose step is d·η, with d raised to the
/// estimate d̂ = (√β2-weighted Σ d·η·⟨g, s/(√v + ε)⟩) / ((1 − √β2)·‖s‖₁), s the √β2-EMA of d·η·g;
/// the first moment already carries d·η. The estimate spans the whole group (it declares a global
/// view); `layer_scale` scales a group's part of it.
struct DAdaptAdam: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.dadapt_adam", displayName: "D-Adaptation Adam", version: "1.0.0",
                                   summary: "learning-rate-free Adam: d·η with d a lower bound on the distance to the solution",
                                   reference: "Defazio & Mishchenko 2023; dadaptation.DAdaptAdam 3.2")
    static let lr = Prodigy.lr, beta1 = Real.decay("beta1", 0.9, "decay of the first moment")
    static let beta2 = Real.decay("beta2", 0.999, "decay of the second moment (√β2 weighs s and the numerator)")
    static let eps = Real.epsilon(1e-8, "added to √v")
    static let weightDecay = Real("weight_decay", default: 0, min: 0, flags: [.schedulable, .perGroup], doc: "decay λ: θ·(1 − λ·d·η) with decouple, else λθ added to the gradient")
    static let decouple = Flag("decouple", doc: "decoupled (AdamW-style) weight decay")
    static let biasCorrection = Prodigy.biasCorrection, d0 = Prodigy.d0, growthRate = Prodigy.growthRate
    static let layerScale = Real("layer_scale", default: 1, min: 0, flags: [.perGroup], doc: "scale r of this group's step and of its part of the estimate")
    static let hyperparameters = schema(lr, beta1, beta2, eps, weightDecay, decouple, biasCorrection, d0, growthRate, layerScale, Flag.maximize)
    static let capabilities: Capabilities = [.needsGlobalView, .decoupledWeightDecay]
    static let numerator = StateSlot.exactScalar("numerator_weighted"), s = StateSlot.likeParameter("s")

    let start: Double
    init(_ hp: HyperparameterValues) throws { start = hp[Self.d0] }
    var stateSlots: [StateSlot] { [.step, .init(Prodigy.d, start), Self.numerator, Prodigy.k, Self.s, .expAvg, .expAvgSq] }

    var dlr = 0.0

    mutating func prepare(_ group: [Parameter], _ ctx: StepContext) throws {
        guard let first = group.first else { return }
        let sign: Float = ctx.hyperparameters[Flag.maximize] ? -1 : 1
        let hp = ctx.hyperparameters, beta1 = hp[Self.beta1], beta2 = hp[Self.beta2], lr = hp[Self.lr], r = hp[Self.layerScale]
        let k = try first.exact(Prodigy.k).pointee, d = try first.exact(Prodigy.d).pointee, rootBeta2 = beta2.squareRoot()
        let correction = hp[Self.biasCorrection] ? (1 - pow(beta2, k + 1)).squareRoot() / (1 - pow(beta1, k + 1)) : 1
        dlr = d * lr * correction
        let coupled = hp[Self.decouple] ? 0 : Float(hp[Self.weightDecay]), eps = Float(hp[Self.eps])
        let b1 = Float(beta1), mScale = Float(r * dlr * (1 - beta1)), b2 = Float(beta2), w2 = Float(1 - beta2)
        let sDecay = Float(rootBeta2), sScale = Float(dlr * (1 - rootBeta2))
        var accumulated = 0.0, l1 = 0.0
        for p in group {
            let x = p.value, m = try p[.expAvg], v = try p[.expAvgSq], sv = try p[Self.s]
            guard lr > 0 else { continue }
            // One pass: ⟨g, s/(√v + ε)⟩ with the old s and v, then the moments and s, and ‖s‖₁ (lane sums).
            var dot = 0.0, norm = 0.0, dotLanes = SIMD8<Float>(repeating: 0), normLanes = dotLanes
            let grad = p.grad, vsign = SIMD8<Float>(repeating: sign), vc = SIMD8<Float>(repeating: coupled), veps = SIMD8<Float>(repeating: eps)
            let vb1 = SIMD8<Float>(repeating: b1), vm = SIMD8<Float>(repeating: mScale), vb2 = SIMD8<Float>(repeating: b2)
            let vw2 = SIMD8<Float>(repeating: w2), vsd = SIMD8<Float>(repeating: sDecay), vss = SIMD8<Float>(repeating: sScale)
            var i = 0
            let end = p.count & ~7
            while i < end {
                let blockEnd = min(i + 1024, end)
                while i < blockEnd {
                    let g = vsign * grad[vector: i] + vc * x[vector: i], vi = v[vector: i], si = sv[vector: i]
                    dotLanes += g * (si / (vi.squareRoot() + veps))
                    m[vector: i] = (m[vector: i] * vb1).addingProduct(g, vm)  // mul_ then add_(alpha): one rounding
                    v[vector: i] = vi * vb2 + vw2 * g * g
                    let sNew = (si * vsd).addingProduct(g, vss)
                    sv[vector: i] = sNew
                    normLanes += sNew.replacing(with: -sNew, where: sNew .< 0)
                    i += 8
                }
                dot += Double(dotLanes.sum()); norm += Double(normLanes.sum()); dotLanes = .zero; normLanes = .zero
            }
            while i < p.count {
                let g = sign * grad[i] + coupled * x[i]
                dot += Double(g * (sv[i] / (fastSqrt(v[i]) + eps)))
                m[i] = (m[i] * b1).addingProduct(mScale, g)
                v[i] = v[i] * b2 + w2 * g * g
                sv[i] = (sv[i] * sDecay).addingProduct(sScale, g)
                norm += Double(abs(sv[i]))
                i += 1
            }
            dot += Double(dotLanes.sum()); norm += Double(normLanes.sum())
            accumulated += r * dlr * Double(Float(dot))
            l1 += r * Double(Float(norm))
        }
        let weighted = rootBeta2 * (try first.exact(Self.numerator).pointee) + (1 - rootBeta2) * accumulated
        var newD = d
        if l1 == 0 { dlr = .nan; return }
        if lr > 0 { newD = max(d, min(weighted / ((1 - rootBeta2) * l1), d * hp[Self.growthRate])) }
        for p in group {
            try p.exact(Self.numerator).pointee = weighted
            try p.exact(Prodigy.d).pointee = newD
            try p.exact(Prodigy.k).pointee = k + 1
        }
    }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        guard !dlr.isNaN else { return }
        let sign: Float = ctx.hyperparameters[Flag.maximize] ? -1 : 1
        let hp = ctx.hyperparameters, x = p.value, m = try p[.expAvg], v = try p[.expAvgSq], eps = Float(hp[Self.eps])
        _ = try p.advance(.step)
        let decay = hp[Self.decouple] ? Float(-hp[Self.weightDecay] * dlr) : 0
        forEachChunk(p.count) { range in for i in range { x[i] = (x[i] + decay * x[i]) - m[i] / (fastSqrt(v[i]) + eps) } }
    }
}
