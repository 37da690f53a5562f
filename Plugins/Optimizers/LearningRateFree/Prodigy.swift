import GradusPluginKit

/// Prodigy as prodigyopt 1.1.2: Adam whose step is d·η, with d, the estimated distance to the
/// solution, grown from d0 by d̂ = d_coef·(Σ over steps of β3-weighted (d/d0)·d·η·⟨g, x₀ − x⟩) / ‖s‖₁,
/// s the β3-EMA of (d/d0)·d·η·g; decoupled or coupled decay. The estimate spans the whole group
/// (it declares a global view); `slice_p` keeps every slice_p-th coordinate for it.
struct Prodigy: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.prodigy", displayName: "Prodigy", version: "1.0.0",
                                   summary: "learning-rate-free Adam: the step scales with an estimate d of the distance to the solution",
                                   reference: "Mishchenko & Defazio 2024; prodigyopt.Prodigy 1.1.2")
    static let lr = Real("lr", default: 1, min: 0, flags: [.logScale, .schedulable, .perGroup], doc: "multiplier of the adapted step (the authors advise 1)")
    static let beta1 = Real.decay("beta1", 0.9, "decay of the first moment (0: no first moment)")
    static let beta2 = Real.decay("beta2", 0.999, "decay of the second moment")
    static let beta3 = Real("beta3", default: -1, max: 1, flags: [.perGroup, .maxExclusive], doc: "decay of s and the numerator; negative: √beta2 (the reference's None)")
    static let eps = Real.epsilon(1e-8, "added to √v, times d")
    static let weightDecay = Real("weight_decay", default: 0, min: 0, flags: [.schedulable, .perGroup], doc: "decay λ: θ·(1 − λ·d·η) with decouple, else λθ added to the gradient")
    static let decouple = Flag("decouple", default: true, doc: "decoupled (AdamW-style) weight decay")
    static let biasCorrection = Flag("use_bias_correction", doc: "step d·η·√(1 − β2^(k+1))/(1 − β1^(k+1))")
    static let safeguard = Flag("safeguard_warmup", doc: "leave η out of s (avoids a huge d during warmup)")
    static let d0 = Real("d0", default: 1e-6, min: 0, flags: [.minExclusive], doc: "the initial estimate of d")
    static let dCoef = Real("d_coef", default: 1, min: 0, flags: [.perGroup, .minExclusive], doc: "multiplier of the estimate d̂")
    static let growthRate = Real("growth_rate", default: .infinity, min: 1, doc: "largest factor by which d may grow per step")
    static let sliceP = Integer("slice_p", default: 1, min: 1, max: 1 << 30, doc: "use every slice_p-th coordinate for the estimate (memory)")
    static let hyperparameters = schema(lr, beta1, beta2, beta3, eps, weightDecay, decouple, biasCorrection, safeguard, d0, dCoef, growthRate, sliceP, Flag.maximize)
    static let capabilities: Capabilities = [.needsGlobalView, .decoupledWeightDecay]
    static let d = StateSlot.exactScalar("d"), dMax = StateSlot.exactScalar("d_max"), numerator = StateSlot.exactScalar("d_numerator")
    static let denominator = StateSlot.exactScalar("d_denom"), dHat = StateSlot.exactScalar("d_hat"), k = StateSlot.exactScalar("k")

    let s: StateSlot, p0: StateSlot, start: Double, usesMoment: Bool
    init(_ hp: HyperparameterValues) throws {
        let slice = Int(hp[Self.sliceP])
        start = hp[Self.d0]
        usesMoment = hp[Self.beta1] > 0
        let sliced = { (shape: [Int]) -> [Int] in let n = shape.reduce(1, *); return [n == 0 ? 0 : (n - 1) / slice + 1] }
        s = .shaped("s") { shape, _ in sliced(shape) }
        p0 = .shaped("p0") { shape, _ in sliced(shape) }
    }
    var stateSlots: [StateSlot] {
        [.step, .init(Self.d, start), .init(Self.dMax, start), Self.numerator, Self.denominator, .init(Self.dHat, start), Self.k, s, p0, .expAvgSq]
            + (usesMoment ? [.expAvg] : [])
    }

    /// The update pass's step d·η (with bias correction), computed before d changes.
    var dlr = 0.0

    mutating func prepare(_ group: [Parameter], _ ctx: StepContext) throws {
        guard let first = group.first else { return }
        let sign: Float = ctx.hyperparameters[Flag.maximize] ? -1 : 1
        let hp = ctx.hyperparameters, beta1 = hp[Self.beta1], beta2 = hp[Self.beta2], lr = hp[Self.lr]
        let beta3 = hp[Self.beta3] < 0 ? beta2.squareRoot() : hp[Self.beta3], slice = Int(hp[Self.sliceP])
        let k = try first.exact(Self.k).pointee, d = try first.exact(Self.d).pointee
        let correction = hp[Self.biasCorrection] ? (1 - pow(beta2, k + 1)).squareRoot() / (1 - pow(beta1, k + 1)) : 1
        dlr = d * lr * correction
        let coupled = hp[Self.decouple] ? 0 : Float(hp[Self.weightDecay])
        var numerator = try first.exact(Self.numerator).pointee * beta3, delta = 0.0, denominator = 0.0
        let mScale = Float(d * (1 - beta1)), vScale = Float(d * d * (1 - beta2)), b1 = Float(beta1), b2 = Float(beta2), b3 = Float(beta3)
        let sScale = Float(hp[Self.safeguard] ? (d / start) * d : (d / start) * dlr)
        for p in group {
            let x = p.value, v = try p[.expAvgSq], sv = try p[s], x0 = try p[p0], m = usesMoment ? try p[.expAvg] : v
            if try p.exact(.step).pointee == 0 { for j in 0..<x0.count { x0[j] = x[j * slice] } }
            guard lr > 0 else { continue }
            if slice == 1 {
                // One pass: ⟨g, x₀ − x⟩, the moments, s and ‖s‖₁ (lane sums).
                let (dot, l1) = fusedPass(p, x0: x0, s: sv, v: v, m: usesMoment ? m : nil, sign: sign, coupled: coupled,
                                          b1: b1, mScale: mScale, b2: b2, vScale: vScale, b3: b3, sScale: sScale)
                delta += (d / start) * dlr * dot
                denominator += l1
                continue
            }
            var dot: Float = 0
            for j in 0..<sv.count { let i = j * slice; dot += (sign * p.grad[i] + coupled * x[i]) * (x0[j] - x[i]) }
            delta += (d / start) * dlr * Double(dot)
            for i in 0..<p.count {
                let g = sign * p.grad[i] + coupled * x[i]
                if usesMoment { m[i] = (m[i] * b1).addingProduct(mScale, g) }  // mul_ then add_(alpha): one rounding, as torch's kernel
                v[i] = v[i] * b2 + vScale * g * g
            }
            var l1: Float = 0
            for j in 0..<sv.count {
                sv[j] = (sv[j] * b3).addingProduct(sScale, sign * p.grad[j * slice] + coupled * x[j * slice])
                l1 += abs(sv[j])
            }
            denominator += Double(l1)
        }
        var newD = d, dMax = try first.exact(Self.dMax).pointee, dHat = d
        if denominator == 0 { dlr = .nan; return }      // the reference skips the step entirely
        if lr > 0 {
            numerator += delta
            dHat = hp[Self.dCoef] * numerator / denominator
            if d == start { newD = max(d, dHat) }
            dMax = max(dMax, dHat)
            newD = min(dMax, newD * hp[Self.growthRate])
        }
        for p in group {
            try p.exact(Self.numerator).pointee = numerator
            try p.exact(Self.denominator).pointee = denominator
            try p.exact(Self.d).pointee = newD
            try p.exact(Self.dMax).pointee = dMax
            try p.exact(Self.dHat).pointee = dHat
            try p.exact(Self.k).pointee = k + 1
        }
    }

    /// Pass 1 for slice_p = 1 as one SIMD loop; returns (⟨g, x₀ − x⟩, ‖s‖₁) after updating m, v and s.
    func fusedPass(_ p: Parameter, x0: UnsafeMutableBufferPointer<Float>, s sv: UnsafeMutableBufferPointer<Float>,
                   v: UnsafeMutableBufferPointer<Float>, m: UnsafeMutableBufferPointer<Float>?, sign: Float, coupled: Float,
                   b1: Float, mScale: Float, b2: Float, vScale: Float, b3: Float, sScale: Float) -> (Double, Double) {
        let x = p.value, grad = p.grad, vsign = SIMD8<Float>(repeating: sign), vc = SIMD8<Float>(repeating: coupled)
        let vm = SIMD8<Float>(repeating: mScale), vs = SIMD8<Float>(repeating: sScale)
        var dot = 0.0, l1 = 0.0, dotLanes = SIMD8<Float>(repeating: 0), l1Lanes = dotLanes
        let vb1 = SIMD8<Float>(repeating: b1), vb2 = SIMD8<Float>(repeating: b2), vv = SIMD8<Float>(repeating: vScale), vb3 = SIMD8<Float>(repeating: b3)
        var i = 0
        let end = p.count & ~7
        while i < end {
            let blockEnd = min(i + 1024, end)
            while i < blockEnd {
                let xi = x[vector: i], g = vsign * grad[vector: i] + vc * xi
                dotLanes += g * (x0[vector: i] - xi)
                if let m { m[vector: i] = (m[vector: i] * vb1).addingProduct(g, vm) }
                v[vector: i] = v[vector: i] * vb2 + vv * g * g
                let sNew = (sv[vector: i] * vb3).addingProduct(g, vs)
                sv[vector: i] = sNew
                l1Lanes += sNew.replacing(with: -sNew, where: sNew .< 0)
                i += 8
            }
            dot += Double(dotLanes.sum()); l1 += Double(l1Lanes.sum()); dotLanes = .zero; l1Lanes = .zero
        }
        while i < p.count {
            let g = sign * grad[i] + coupled * x[i]
            dot += Double(g * (x0[i] - x[i]))
            if let m { m[i] = (m[i] * b1).addingProduct(mScale, g) }
            v[i] = v[i] * b2 + vScale * g * g
            sv[i] = (sv[i] * b3).addingProduct(sScale, g)
            l1 += Double(abs(sv[i]))
            i += 1
        }
        return (dot + Double(dotLanes.sum()), l1 + Double(l1Lanes.sum()))
    }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        guard !dlr.isNaN else { return }
        let sign: Float = ctx.hyperparameters[Flag.maximize] ? -1 : 1
        let hp = ctx.hyperparameters, x = p.value, v = try p[.expAvgSq], d = try p.exact(Self.d).pointee
        _ = try p.advance(.step)
        let floor = Float(d * hp[Self.eps]), decay = hp[Self.decouple] ? Float(-hp[Self.weightDecay] * dlr) : 0
        let coupled = hp[Self.decouple] ? 0 : Float(hp[Self.weightDecay])
        if usesMoment {
            let m = try p[.expAvg], step = Float(-dlr)
            forEachChunk(p.count) { range in
                for i in range { x[i] = (x[i] + decay * x[i]) + step * (m[i] / (fastSqrt(v[i]) + floor)) }
            }
        } else {
            let step = Float(-dlr * d)
            for i in 0..<p.count {
                let den = fastSqrt(v[i]) + floor, g = sign * p.grad[i] + coupled * x[i]
                x[i] = (x[i] + decay * x[i]) + step * (g / den)
            }
        }
    }
}

extension StateSlot {
    /// `slot` with another initial value (for initial values set by hyperparameters).
    init(_ slot: StateSlot, _ initialValue: Double) {
        self = .exactScalar(slot.name, initialValue: initialValue)
    }
}
