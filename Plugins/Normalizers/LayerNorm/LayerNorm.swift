import GradusPluginKit

/// LayerNorm over the trailing `normalized_dims` axes, in kernel and graph form (PyTorch
/// conventions: biased variance, ε inside the root, gain 1 and bias 0 at start, no buffers).
struct LayerNorm: NormalizerPlugin {
    static let info = StrategyInfo(id: "gradus.layernorm", displayName: "LayerNorm", version: "1.0.0",
                                   summary: "Layer normalization over each sample's trailing feature axes",
                                   reference: "Ba, Kiros & Hinton 2016; torch.nn.LayerNorm")
    static let eps = Real("eps", default: 1e-5, min: 0, flags: [.logScale, .minExclusive], doc: "added to the biased variance inside the root")
    static let elementwiseAffine = Flag("elementwise_affine", default: true, doc: "learn a per-feature gain")
    static let bias = Flag("bias", default: true, doc: "learn a per-feature bias (needs elementwise_affine)")
    static let hyperparameters = schema(eps, elementwiseAffine, bias)
    static let forms: NormalizerForms = [.kernel, .graph]

    let eps: Double, featureShape: [Int], features: Int, hasGain: Bool, hasBias: Bool

    init(_ hp: HyperparameterValues, input: NormalizerInput) throws {
        eps = hp[Self.eps]
        featureShape = try input.trailingFeatureShape()
        features = featureShape.reduce(1, *)
        hasGain = hp[Self.elementwiseAffine]
        hasBias = hasGain && hp[Self.bias]
    }

    var parameters: [NormalizerTensor] {
        (hasGain ? [NormalizerTensor("weight", role: .normGain, shape: featureShape, initialValue: 1)] : [])
            + (hasBias ? [NormalizerTensor("bias", role: .normBias, shape: featureShape, initialValue: 0)] : [])
    }

    /// Mean and 1/√(var + ε) of the row at `x` (two passes: the mean, then the squared deviations
    /// from it), eight float lanes per block of 1024 elements with the block sums in double.
    @inline(__always)
    func moments(_ x: UnsafePointer<Float>) -> (Float, Float) {
        let raw = UnsafeRawPointer(x), n = features
        let mean = Float(sumOfProducts(n, { raw.loadUnaligned(fromByteOffset: $0 * 4, as: SIMD8<Float>.self) }, tail: { x[$0] }) / Double(n))
        let m8 = SIMD8<Float>(repeating: mean)
        let sq = sumOfProducts(n, { i in
            let d = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - m8
            return d * d
        }, tail: { (x[$0] - mean) * (x[$0] - mean) })
        return (mean, Float(1 / (sq / Double(n) + eps).squareRoot()))
    }

    func forward(mode: NormalizerMode, x: TensorView, parameters p: [TensorView], buffers: [TensorView], y: TensorView) throws {
        guard let xs = x.elements.baseAddress, let ys = y.elements.baseAddress else { return }
        let gain = hasGain ? UnsafeBufferPointer(p[0].elements) : nil, bias = hasBias ? UnsafeBufferPointer(p[1].elements) : nil
        for r in 0..<(x.count / features) {
            let xr = xs + r * features, yr = UnsafeMutableBufferPointer(start: ys + r * features, count: features)
            let xb = UnsafeBufferPointer(start: xr, count: features)
            let (mean, rstd) = moments(xr)
            let m8 = SIMD8<Float>(repeating: mean), s8 = SIMD8<Float>(repeating: rstd)
            forEachVector(features, { j in
                var v = (xb[vector: j] - m8) * s8
                if let gain { v *= gain[vector: j] }
                if let bias { v += bias[vector: j] }
                yr[vector: j] = v
            }, scalar: { j in
                yr[j] = (xb[j] - mean) * rstd * (gain?[j] ?? 1) + (bias?[j] ?? 0)
            })
        }
    }

    /// dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·gain; dgain = Σ dy·x̂, dbias = Σ dy.
    func backward(mode: NormalizerMode, x: TensorView, parameters p: [TensorView], buffers: [TensorView],
                  dy: TensorView, dx: TensorView, parameterGradients dp: [TensorView?]) throws {
        for g in dp.compactMap({ $0 }) { for j in 0..<g.count { g[j] = 0 } }
        guard let xs = x.elements.baseAddress, let dys = dy.elements.baseAddress, let dxs = dx.elements.baseAddress else { return }
        let gain = hasGain ? UnsafeBufferPointer(p[0].elements) : nil
        let dgain = hasGain ? dp[0]?.elements : nil, dbias = hasBias ? dp[1]?.elements : nil
        for r in 0..<(x.count / features) {
            let xr = xs + r * features
            let xb = UnsafeBufferPointer(start: xr, count: features), dyb = UnsafeBufferPointer(start: dys + r * features, count: features)
            let dxb = UnsafeMutableBufferPointer(start: dxs + r * features, count: features)
            let (mean, rstd) = moments(xr)
            let m8 = SIMD8<Float>(repeating: mean), s8 = SIMD8<Float>(repeating: rstd)
            @inline(__always) func g8(_ j: Int) -> SIMD8<Float> { gain.map { dyb[vector: j] * $0[vector: j] } ?? dyb[vector: j] }
            @inline(__always) func g1(_ j: Int) -> Float { dyb[j] * (gain?[j] ?? 1) }
            let sumG = sumOfProducts(features, g8, tail: g1)
            let sumGX = sumOfProducts(features, { j in g8(j) * ((xb[vector: j] - m8) * s8) }, tail: { j in g1(j) * (xb[j] - mean) * rstd })
            let a = Float(sumG / Double(features)), b = Float(sumGX / Double(features))
            let a8 = SIMD8<Float>(repeating: a), b8 = SIMD8<Float>(repeating: b)
            forEachVector(features, { j in
                let xhat = (xb[vector: j] - m8) * s8, dyv = dyb[vector: j]
                dxb[vector: j] = s8 * (g8(j) - a8 - xhat * b8)
                if let dgain { dgain[vector: j] += dyv * xhat }
                if let dbias { dbias[vector: j] += dyv }
            }, scalar: { j in
                let xhat = (xb[j] - mean) * rstd
                dxb[j] = rstd * (g1(j) - a - xhat * b)
                dgain?[j] += dyb[j] * xhat
                dbias?[j] += dyb[j]
            })
        }
    }
}

extension LayerNorm {
    /// Graph form: the same function from host ops, so gradients of every order exist.
    func buildGraph(mode: NormalizerMode, graph g: GraphBuilder, x: gradus_node, parameters p: [gradus_node],
                    buffers: [gradus_node]) throws -> gradus_node {
        let axes = Array(-featureShape.count ... -1)
        let centered = try g.op("sub", x, g.reduce("mean", x, axes: axes))
        let variance = try g.reduce("mean", g.op("square", centered), axes: axes)
        var y = try g.op("mul", centered, g.op("rsqrt", g.affine(variance, shift: eps)))
        if hasGain { y = try g.op("mul", y, p[0]) }
        if hasBias { y = try g.op("add", y, p[1]) }
        return y
    }
}

@_cdecl("gradus_plugin_entry_v1")
public func entry(_ q: EntryRequest?, _ r: EntryResponse?) -> Int32 { GradusLibrary.entry(q, r, name: "gradus-layernorm", vendor: "gradus", [.normalizer(LayerNorm.self)]) }
