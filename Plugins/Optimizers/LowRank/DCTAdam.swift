import GradusPluginKit
import Foundation

/// DCT-Adam as the dctadam 0.1.0 package computes it: the flattened gradient is cut into blocks of
/// `block_size` (the last one zero-padded, its extra coefficients dropped), each block goes through an
/// orthonormal DCT-II, Adam runs on the coefficients, the normalized coefficients are damped by
/// w_k = 1/(1 + α·k) (k the global coefficient index) and transformed back (DCT-III). The package is
/// a full-rank block-DCT method; the paper's rank-r column selection is not in it, so Gradus follows
/// the package its golden values come from. Transforms are O(block²) per block in double precision.
struct DCTAdam: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.dct_adam", displayName: "DCT-Adam", version: "1.0.0",
                                   summary: "Adam on blockwise orthonormal-DCT coefficients of the gradient, high frequencies damped",
                                   reference: "SVD-Free Low-Rank Adaptive Gradient Optimization (2025); dctadam.DCTAdam 0.1.0")
    static let lr = Real.learningRate(1e-3), beta1 = Real.decay("beta1", 0.9, "decay of the first moment of the coefficients")
    static let beta2 = Real.decay("beta2", 0.999, "decay of the second moment of the coefficients")
    static let eps = Real.epsilon(1e-8, "added to √v̂, outside the root"), weightDecay = Real.weightDecay(decoupled: true)
    static let alpha = Real("alpha", default: 0, min: 0, flags: [.perGroup], doc: "damping of coefficient k by 1/(1 + α·k) (0: none)")
    static let blockSize = Integer("block_size", default: 4096, min: 1, max: 1 << 16, doc: "length of the DCT blocks of the flattened parameter")
    static let hyperparameters = schema(lr, beta1, beta2, eps, weightDecay, alpha, blockSize, Flag.maximize)
    static let capabilities: Capabilities = [.decoupledWeightDecay]
    static let mHat = StateSlot.likeParameter("m_hat", masked: false), vHat = StateSlot.likeParameter("v_hat", masked: false)
    static let weights = StateSlot.likeParameter("w", masked: false)

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [.step, Self.mHat, Self.vHat, Self.weights] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, t = try p.advance(.step), n = p.count, b = Int(hp[Self.blockSize]), lr = hp[Self.lr]
        let m = try p[Self.mHat], v = try p[Self.vHat], w = try p[Self.weights], x = p.value, sign: Float = hp[Flag.maximize] ? -1 : 1
        if t == 1 {
            let a = Float(hp[Self.alpha])
            for k in 0..<n { w[k] = a == 0 ? 1 : 1 / (1 + a * Float(k)) }
        }
        let coefficients = Self.transform((0..<n).map { sign * p.grad[$0] }, block: b, inverse: false)
        let bc1 = Float(1 - pow(hp[Self.beta1], t)), bc2 = Float(1 - pow(hp[Self.beta2], t)), eps = Float(hp[Self.eps])
        let b1 = Float(hp[Self.beta1]), w1 = Float(1 - hp[Self.beta1]), b2 = Float(hp[Self.beta2]), w2 = Float(1 - hp[Self.beta2])
        var u = [Float](repeating: 0, count: n)
        for k in 0..<n {
            let g = coefficients[k]
            m[k] = m[k] * b1 + w1 * g
            v[k] = v[k] * b2 + w2 * g * g
            u[k] = m[k] / bc1 / (fastSqrt(v[k] / bc2) + eps) * w[k]
        }
        let delta = Self.transform(u, block: b, inverse: true)
        let decay = Float(-hp[Self.weightDecay] * lr), step = Float(-lr)
        for i in 0..<n { x[i] = (hp[Self.weightDecay] != 0 ? x[i] + decay * x[i] : x[i]) + step * delta[i] }
    }

    /// The orthonormal DCT-II (or its inverse, DCT-III) of each block of `x`; the last block is
    /// zero-padded to `block` and only its first entries are kept, as scipy's padded transform.
    static func transform(_ x: [Float], block: Int, inverse: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        var start = 0
        let scale0 = (1 / Double(block)).squareRoot(), scale = (2 / Double(block)).squareRoot()
        // cos(π·k·(2j + 1)/(2N)) from a table of cos(π·m/(2N)), m = k·(2j + 1) mod 4N.
        let table = (0..<(4 * block)).map { cos(Double.pi * Double($0) / Double(2 * block)) }
        while start < x.count {
            let len = min(block, x.count - start)
            for outIndex in 0..<len {
                var sum = 0.0
                for inIndex in 0..<len {
                    let (k, j) = inverse ? (inIndex, outIndex) : (outIndex, inIndex)
                    sum += (k == 0 ? scale0 : scale) * table[(k * (2 * j + 1)) % (4 * block)] * Double(x[start + inIndex])
                }
                out[start + outIndex] = Float(sum)
            }
            start += len
        }
        return out
    }
}
