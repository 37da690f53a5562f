import GradusPluginKit

/// Kernel form: statistics per channel accumulated in double.
extension BatchNorm {
    /// Calls `body(c, i)` for every element index i of channel c.
    func forEach(_ x: TensorView, _ body: (Int, Int) -> Void) {
        for n in 0..<(x.count / (channels * inner)) {
            for c in 0..<channels { let base = (n * channels + c) * inner; for s in 0..<inner { body(c, base + s) } }
        }
    }

    /// Per channel: mean, biased variance and the element count.
    func moments(_ x: TensorView) throws -> ([Double], [Double], Int) {
        let m = x.count / channels
        guard m > 1 else { throw PluginError.invalidArgument("train mode needs more than 1 value per channel, got \(m)") }
        var mean = [Double](repeating: 0, count: channels), sq = mean
        forEach(x) { c, i in mean[c] += Double(x[i]) }
        for c in 0..<channels { mean[c] /= Double(m) }
        forEach(x) { c, i in let d = Double(x[i]) - mean[c]; sq[c] += d * d }
        return (mean, sq.map { $0 / Double(m) }, m)
    }

    /// (mean, 1/√(var + ε)) per channel: the batch's in train mode, the running ones in eval mode.
    func statistics(_ mode: NormalizerMode, _ x: TensorView, _ b: [TensorView]) throws -> ([Float], [Float]) {
        if mode == .eval { return ((0..<channels).map { b[0][$0] }, (0..<channels).map { Float(1 / (Double(b[1][$0]) + eps).squareRoot()) }) }
        let (mean, variance, _) = try moments(x)
        return (mean.map(Float.init), variance.map { Float(1 / ($0 + eps).squareRoot()) })
    }

    func forward(mode: NormalizerMode, x: TensorView, parameters p: [TensorView], buffers b: [TensorView], y: TensorView) throws {
        let (mean, rstd) = try statistics(mode, x, b)
        forEach(x) { c, i in y[i] = (x[i] - mean[c]) * rstd[c] * (affine ? p[0][c] : 1) + (affine ? p[1][c] : 0) }
        guard mode == .train else { return }
        let (batchMean, variance, m) = try moments(x)
        for c in 0..<channels {
            b[0][c] = Float((1 - momentum) * Double(b[0][c]) + momentum * batchMean[c])
            b[1][c] = Float((1 - momentum) * Double(b[1][c]) + momentum * variance[c] * Double(m) / Double(m - 1))
        }
    }

    func backward(mode: NormalizerMode, x: TensorView, parameters p: [TensorView], buffers b: [TensorView],
                  dy: TensorView, dx: TensorView, parameterGradients dp: [TensorView?]) throws {
        let (mean, rstd) = try statistics(mode, x, b)
        var sumG = [Double](repeating: 0, count: channels), sumGX = sumG
        forEach(x) { c, i in
            let xhat = Double((x[i] - mean[c]) * rstd[c])
            sumG[c] += Double(dy[i]); sumGX[c] += Double(dy[i]) * xhat
        }
        if affine {
            for c in 0..<channels { dp[0]?[c] = Float(sumGX[c]); dp[1]?[c] = Float(sumG[c]) }
        }
        let m = Double(x.count / channels)
        forEach(x) { c, i in
            let gain = affine ? p[0][c] : 1
            guard mode == .train else { dx[i] = dy[i] * gain * rstd[c]; return }
            let xhat = (x[i] - mean[c]) * rstd[c]
            dx[i] = gain * rstd[c] * (dy[i] - Float(sumG[c] / m) - xhat * Float(sumGX[c] / m))
        }
    }
}
