import GradusPluginKit

/// The element loop of torch's Adam and AdamW (single-tensor path): an optional decoupled decay
/// θ·(1 − η·λ), an optional coupled decay g + λθ, the moments, AMSGrad's running maximum of the raw
/// v, and θ − (η/bc1)·m / (√v/√bc2 + ε).
enum AdamStep {
    struct Settings {
        var lr: Double, beta1: Double, beta2: Double, eps: Double
        /// λ added to the gradient (Adam's weight_decay).
        var coupledDecay: Double = 0
        /// λ in θ·(1 − η·λ) (AdamW's weight_decay).
        var decoupledDecay: Double = 0
        var maximize = false
    }

    static func run(_ p: Parameter, _ s: Settings, t: Double, m: UnsafeMutableBufferPointer<Float>,
                    v: UnsafeMutableBufferPointer<Float>, vmax: UnsafeMutableBufferPointer<Float>?) {
        let stepSize = Float(s.lr / (1 - pow(s.beta1, t))), rootBC2 = Float((1 - pow(s.beta2, t)).squareRoot())
        let w1 = Float(1 - s.beta1), b2 = Float(s.beta2), w2 = Float(1 - s.beta2), eps = Float(s.eps)
        let wd = Float(s.coupledDecay), keep = Float(1 - s.lr * s.decoupledDecay), sign: Float = s.maximize ? -1 : 1
        let x = p.value, grad = p.grad, vm = vmax ?? v
        // One body, a copy per AMSGrad setting: branch- and alias-free, so it vectorises (λ = 0 adds exactly
        // 0 and keep = 1 multiplies exactly, so Adam's arithmetic is unchanged by the decoupled path).
        @inline(__always) func body(_ range: Range<Int>, _ ams: Bool) {
            for i in range {
                let xi = x[i] * keep
                let g = sign * grad[i] + wd * xi
                m[i] = lerp(m[i], g, w1)
                v[i] = v[i] * b2 + w2 * g * g
                if ams { vm[i] = max(vm[i], v[i]) }
                x[i] = xi + -stepSize * (m[i] / (fastSqrt(ams ? vm[i] : v[i]) / rootBC2 + eps))
            }
        }
        forEachChunk(p.count) { vmax != nil ? body($0, true) : body($0, false) }
    }
}
