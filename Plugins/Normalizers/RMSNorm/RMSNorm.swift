import GradusPluginKit

/// RMSNorm over the trailing `normalized_dims` axes (Zhang & Sennrich 2019), in kernel and graph
/// form with torch.nn.RMSNorm's conventions: y = x / √(mean(x²) + ε) · g, no centring, no bias,
/// ε by default the float32 machine epsilon (torch's `eps=None`), gain 1 at start.
struct RMSNorm: NormalizerPlugin {
    static let info = StrategyInfo(id: "gradus.rmsnorm", displayName: "RMSNorm", version: "1.0.0",
                                   summary: "Root-mean-square normalization over each sample's trailing feature axes",
                                   reference: "Zhang & Sennrich 2019; torch.nn.RMSNorm")
    static let eps = Real("eps", default: Double(Float.ulpOfOne), min: 0, flags: [.logScale, .minExclusive],
                          doc: "added to the mean square inside the root (default: float32 machine epsilon, torch's eps=None)")
    static let elementwiseAffine = Flag("elementwise_affine", default: true, doc: "learn a per-feature gain")
    static let hyperparameters = schema(eps, elementwiseAffine)
    static let forms: NormalizerForms = [.kernel, .graph]

    let eps: Double, featureShape: [Int], features: Int, hasGain: Bool

    init(_ hp: HyperparameterValues, input: NormalizerInput) throws {
        eps = hp[Self.eps]
        featureShape = try input.trailingFeatureShape()
        features = featureShape.reduce(1, *)
        hasGain = hp[Self.elementwiseAffine]
    }

    var parameters: [NormalizerTensor] { hasGain ? [NormalizerTensor("weight", role: .normGain, shape: featureShape, initialValue: 1)] : [] }

    /// 1/√(mean(x²) + ε) of row `r`, accumulated in double.
    func inverseRMS(_ x: TensorView, _ r: Int) -> Float {
        var sq = 0.0
        for j in 0..<features { let v = Double(x[r * features + j]); sq += v * v }
        return Float(1 / (sq / Double(features) + eps).squareRoot())
    }

    func forward(mode: NormalizerMode, x: TensorView, parameters p: [TensorView], buffers: [TensorView], y: TensorView) throws {
        for r in 0..<(x.count / features) {
            let s = inverseRMS(x, r)
            for j in 0..<features { y[r * features + j] = x[r * features + j] * s * (hasGain ? p[0][j] : 1) }
        }
    }

    /// With s = 1/√(mean(x²) + ε) and g = dy·gain: dx = s·g − x·s³·mean(g·x); dgain = Σ dy·x·s.
    func backward(mode: NormalizerMode, x: TensorView, parameters p: [TensorView], buffers: [TensorView],
                  dy: TensorView, dx: TensorView, parameterGradients dp: [TensorView?]) throws {
        if let dg = dp.first ?? nil { for j in 0..<dg.count { dg[j] = 0 } }
        for r in 0..<(x.count / features) {
            let s = inverseRMS(x, r)
            var meanGX = 0.0
            for j in 0..<features {
                let i = r * features + j, g = hasGain ? dy[i] * p[0][j] : dy[i]
                meanGX += Double(g) * Double(x[i])
                if hasGain, let dg = dp[0] { dg[j] += dy[i] * x[i] * s }
            }
            let c = Float(meanGX / Double(features)) * s * s * s
            for j in 0..<features {
                let i = r * features + j, g = hasGain ? dy[i] * p[0][j] : dy[i]
                dx[i] = s * g - x[i] * c
            }
        }
    }

    /// Graph form: the same function from host ops, so gradients of every order exist.
    func buildGraph(mode: NormalizerMode, graph g: GraphBuilder, x: gradus_node, parameters p: [gradus_node],
                    buffers: [gradus_node]) throws -> gradus_node {
        let meanSquare = try g.reduce("mean", g.op("square", x), axes: Array(-featureShape.count ... -1))
        let y = try g.op("mul", x, g.op("rsqrt", g.affine(meanSquare, shift: eps)))
        return hasGain ? try g.op("mul", y, p[0]) : y
    }
}

@_cdecl("gradus_plugin_entry_v1")
public func entry(_ q: EntryRequest?, _ r: EntryResponse?) -> Int32 { GradusLibrary.entry(q, r, name: "gradus-rmsnorm", vendor: "gradus", [.normalizer(RMSNorm.self)]) }
