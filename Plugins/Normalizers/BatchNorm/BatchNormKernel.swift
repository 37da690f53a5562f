import GradusPluginKit

/// Kernel form. x is [N, C, inner]: each (sample, channel) pair is a contiguous row of `inner`
/// elements. Statistics are accumulated in double, once per call.
extension BatchNorm {
    /// Calls `body(c, row)` for every contiguous row of channel c.
    @inline(__always)
    func forEachRow(_ x: TensorView, _ body: (Int, Range<Int>) -> Void) {
        for n in 0..<(x.count / (channels * inner)) {
            for c in 0..<channels { let base = (n * channels + c) * inner; body(c, base..<(base + inner)) }
        }
    }

    /// Per channel: mean, biased variance and the element count.
    func moments(_ x: TensorView) throws -> ([Double], [Double], Int) {
        let m = x.count / channels, e = x.elements
        guard m > 1 else { throw PluginError.invalidArgument("train mode needs more than 1 value per channel, got \(m)") }
        var sum = [Double](repeating: 0, count: channels), sq = sum
        forEachRow(x) { c, row in var s = 0.0; for i in row { s += Double(e[i]) }; sum[c] += s }
        let mean = sum.map { $0 / Double(m) }
        forEachRow(x) { c, row in var s = 0.0; for i in row { let d = Double(e[i]) - mean[c]; s += d * d }; sq[c] += s }
        return (mean, sq.map { $0 / Double(m) }, m)
    }

    /// (mean, 1/√(var + ε)) per channel: the batch's in train mode, the running ones in eval mode.
    func statistics(_ mode: NormalizerMode, _ x: TensorView, _ b: [TensorView]) throws -> ([Float], [Float], [Double], Int) {
        if mode == .eval {
            return ((0..<channels).map { b[0][$0] }, (0..<channels).map { Float(1 / (Double(b[1][$0]) + eps).squareRoot()) }, [], 0)
        }
        let (mean, variance, m) = try moments(x)
        return (mean.map(Float.init), variance.map { Float(1 / ($0 + eps).squareRoot()) }, variance, m)
    }

    func forward(mode: NormalizerMode, x: TensorView, parameters p: [TensorView], buffers b: [TensorView], y: TensorView) throws {
        let (mean, rstd, variance, m) = try statistics(mode, x, b)
        let xs = x.elements, ys = y.elements
        forEachRow(x) { c, row in
            let scale = rstd[c] * (affine ? p[0][c] : 1), shift = (affine ? p[1][c] : 0) - mean[c] * scale
            for i in row { ys[i] = xs[i] * scale + shift }
        }
        guard mode == .train else { return }
        for c in 0..<channels {
            b[0][c] = Float((1 - momentum) * Double(b[0][c]) + momentum * Double(mean[c]))
            b[1][c] = Float((1 - momentum) * Double(b[1][c]) + momentum * variance[c] * Double(m) / Double(m - 1))
        }
    }

    func backward(mode: NormalizerMode, x: TensorView, parameters p: [TensorView], buffers b: [TensorView],
                  dy: TensorView, dx: TensorView, parameterGradients dp: [TensorView?]) throws {
        let (mean, rstd, _, _) = try statistics(mode, x, b)
        let xs = x.elements, gs = dy.elements, out = dx.elements
        var sumG = [Double](repeating: 0, count: channels), sumGX = sumG
        forEachRow(x) { c, row in
            var s = 0.0, sx = 0.0
            for i in row { let g = Double(gs[i]); s += g; sx += g * Double((xs[i] - mean[c]) * rstd[c]) }
            sumG[c] += s; sumGX[c] += sx
        }
        if affine {
            for c in 0..<channels { dp[0]?[c] = Float(sumGX[c]); dp[1]?[c] = Float(sumG[c]) }
        }
        let m = Double(x.count / channels)
        forEachRow(x) { c, row in
            let k = (affine ? p[0][c] : 1) * rstd[c]
            guard mode == .train else { for i in row { out[i] = gs[i] * k }; return }
            let a = Float(sumG[c] / m), bx = Float(sumGX[c] / m)
            for i in row { out[i] = k * (gs[i] - a - (xs[i] - mean[c]) * rstd[c] * bx) }
        }
    }
}
