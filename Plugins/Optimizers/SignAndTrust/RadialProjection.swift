import GradusPluginKit

/// AdamP's and SGDP's projection (Heo et al. 2021): for a tensor of 2 or more dimensions, when the
/// gradient is nearly orthogonal to the weights in the channel view (one row per output channel) or
/// else in the layer view (the whole tensor) — max |cos| < δ/√(row length) — the radial component
/// along each row of the weights is removed from the update, and the decay is scaled by wd_ratio.
enum RadialProjection {
    /// Projects `update` in place when the test fires; returns the weight-decay ratio to apply.
    static func apply(_ update: inout [Float], weights w: UnsafeMutableBufferPointer<Float>, gradient g: [Float], shape: [Int],
                      delta: Double, wdRatio: Double, eps: Double) -> Double {
        guard shape.count > 1 else { return 1 }
        let n = update.count
        for rows in [shape[0], 1] {
            let length = n / rows
            var fires = true
            for r in 0..<rows {
                var dot = 0.0, ww = 0.0, gg = 0.0
                for i in (r * length)..<((r + 1) * length) {
                    dot += Double(g[i]) * Double(w[i]); ww += Double(w[i]) * Double(w[i]); gg += Double(g[i]) * Double(g[i])
                }
                // torch's cosine_similarity: x·y / √max(‖x‖²‖y‖², ε²).
                let cosine = abs(dot) / max(ww * gg, eps * eps).squareRoot()
                if cosine >= delta / Double(length).squareRoot() { fires = false; break }
            }
            guard fires else { continue }
            for r in 0..<rows {
                let range = (r * length)..<((r + 1) * length)
                let norm = Float(range.reduce(0.0) { $0 + Double(w[$1]) * Double(w[$1]) }.squareRoot()) + Float(eps)
                var along: Float = 0
                for i in range { along += (w[i] / norm) * update[i] }
                for i in range { update[i] -= (w[i] / norm) * along }
            }
            return wdRatio
        }
        return 1
    }
}

extension RadialProjection {
    /// The step AdamP and SGDP share: θ ← θ·keep(ratio) + step·d with d from `direction(i, nesterov)`
    /// (which also advances the optimizer's state for element i). Vectors are never projected and
    /// take one fused pass; tensors of 2 or more dimensions collect d, project it, and decay with the
    /// ratio the projection returns. `projected` sees the projected d (SGDP writes it back to its buffer).
    @inline(__always)
    static func step(_ p: Parameter, _ hp: HyperparameterValues, sign: Float, nesterov: Bool, step: Float, decays: Bool,
                     keep: (Double) -> Float, direction: (Int, Bool) -> Float, projected: ([Float]) -> Void = { _ in }) {
        let x = p.value
        guard p.shape.count > 1 else {
            let k = keep(1)
            @inline(__always) func body(_ range: Range<Int>, _ nesterov: Bool, _ decays: Bool) {
                for i in range { x[i] = (decays ? x[i] * k : x[i]) + step * direction(i, nesterov) }
            }
            forEachChunk(p.count) { r in
                switch (nesterov, decays) {
                case (true, true): body(r, true, true)
                case (true, false): body(r, true, false)
                case (false, true): body(r, false, true)
                case (false, false): body(r, false, false)
                }
            }
            return
        }
        var d = (0..<p.count).map { direction($0, nesterov) }
        let ratio = apply(&d, weights: x, gradient: p.grad.map { sign * $0 }, shape: p.shape, delta: hp[ProjectionKeys.delta],
                          wdRatio: hp[ProjectionKeys.wdRatio], eps: hp[ProjectionKeys.eps])
        projected(d)
        let k = keep(ratio)
        for i in d.indices { x[i] = (decays ? x[i] * k : x[i]) + step * d[i] }
    }
}

/// The projection hyperparameters AdamP and SGDP share.
enum ProjectionKeys {
    static let delta = Real("delta", default: 0.1, min: 0, flags: [.perGroup], doc: "the cosine threshold is δ/√(row length)")
    static let wdRatio = Real("wd_ratio", default: 0.1, min: 0, flags: [.perGroup], doc: "weight-decay multiplier when the projection fires")
    static let eps = Real.epsilon(1e-8, "in the cosine, the row norms and (AdamP) added to √v̂")
}
