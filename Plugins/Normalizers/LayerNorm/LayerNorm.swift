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

    /// Mean and 1/√(var + ε) of row `r`, accumulated in double.
    func moments(_ x: TensorView, _ r: Int) -> (Float, Float) {
        var sum = 0.0, sq = 0.0
        for j in 0..<features { sum += Double(x[r * features + j]) }
        let mean = sum / Double(features)
        for j in 0..<features { let d = Double(x[r * features + j]) - mean; sq += d * d }
        return (Float(mean), Float(1 / (sq / Double(features) + eps).squareRoot()))
    }

    func forward(mode: NormalizerMode, x: TensorView, parameters p: [TensorView], buffers: [TensorView], y: TensorView) throws {
        for r in 0..<(x.count / features) {
            let (mean, rstd) = moments(x, r)
            for j in 0..<features {
                let xhat = (x[r * features + j] - mean) * rstd
                y[r * features + j] = (hasGain ? xhat * p[0][j] : xhat) + (hasBias ? p[1][j] : 0)
            }
        }
    }

    func backward(mode: NormalizerMode, x: TensorView, parameters p: [TensorView], buffers: [TensorView],
                  dy: TensorView, dx: TensorView, parameterGradients dp: [TensorView?]) throws {
        for g in dp.compactMap({ $0 }) { for j in 0..<g.count { g[j] = 0 } }
        for r in 0..<(x.count / features) {
            let (mean, rstd) = moments(x, r)
            var meanG = 0.0, meanGX = 0.0
            for j in 0..<features {
                let i = r * features + j, xhat = (x[i] - mean) * rstd, g = hasGain ? dy[i] * p[0][j] : dy[i]
                meanG += Double(g); meanGX += Double(g * xhat)
                if hasGain, let dg = dp[0] { dg[j] += dy[i] * xhat }
                if hasBias, let db = dp[1] { db[j] += dy[i] }
            }
            let a = Float(meanG / Double(features)), b = Float(meanGX / Double(features))
            for j in 0..<features {
                let i = r * features + j, xhat = (x[i] - mean) * rstd, g = hasGain ? dy[i] * p[0][j] : dy[i]
                dx[i] = rstd * (g - a - xhat * b)
            }
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
