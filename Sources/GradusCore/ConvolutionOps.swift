/// Geometry of a 2-D sliding window over NCHW input (square stride and padding per axis).
public struct Window2D: Sendable, CustomStringConvertible {
    public let kernel: (h: Int, w: Int)
    public let stride: (h: Int, w: Int)
    public let padding: (h: Int, w: Int)

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.init(kernelH: kernel, kernelW: kernel, stride: stride ?? kernel, padding: padding)
    }

    public init(kernelH: Int, kernelW: Int, stride: Int, padding: Int) {
        precondition(kernelH >= 1 && kernelW >= 1 && stride >= 1 && padding >= 0, "invalid window")
        kernel = (kernelH, kernelW); self.stride = (stride, stride); self.padding = (padding, padding)
    }

    public var description: String { "k\(kernel.h)x\(kernel.w) s\(stride.h)x\(stride.w) p\(padding.h)x\(padding.w)" }

    /// Output height and width for an input of `h`×`w` (PyTorch's floor rule).
    public func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h + 2 * padding.h - kernel.h) / stride.h + 1, (w + 2 * padding.w - kernel.w) / stride.w + 1)
    }

    /// im2col as an index map: [N, C, H, W] → [N·OH·OW, C·KH·KW], one row per output pixel,
    /// columns ordered (c, kh, kw) to match a weight stored (O, C, KH, KW). Padding reads as 0.
    public func im2col(_ shape: [Int]) -> IndexMap {
        precondition(shape.count == 4, "im2col needs [N, C, H, W], got \(shape)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (oh, ow) = outputSize(h, w)
        precondition(oh >= 1 && ow >= 1, "window \(self) does not fit an input of \(h)x\(w)")
        return IndexMap.cached("im2col \(shape) \(self)") {
            let cols = c * kernel.h * kernel.w
            var indices = [Int32](repeating: -1, count: n * oh * ow * cols)
            var r = 0
            for b in 0..<n {
                for y in 0..<oh {
                    for x in 0..<ow {
                        var col = r * cols
                        for ch in 0..<c {
                            for ky in 0..<kernel.h {
                                let iy = y * stride.h - padding.h + ky
                                for kx in 0..<kernel.w {
                                    let ix = x * stride.w - padding.w + kx
                                    if iy >= 0, iy < h, ix >= 0, ix < w { indices[col] = Int32(((b * c + ch) * h + iy) * w + ix) }
                                    col += 1
                                }
                            }
                        }
                        r += 1
                    }
                }
            }
            return IndexMap(sourceShape: shape, outputShape: [n * oh * ow, cols], indices: indices)
        }
    }
}

/// 2-D convolution (cross-correlation, as in PyTorch) of x [N, C, H, W] with weight
/// [O, C, KH, KW] and an optional bias [O]: im2col, one GEMM, and a permutation back to NCHW.
/// Built from differentiable ops, so it has gradients of every order.
public func conv2d(_ x: Variable, weight: Variable, bias: Variable? = nil, stride: Int = 1, padding: Int = 0) -> Variable {
    precondition(x.shape.count == 4 && weight.shape.count == 4 && x.shape[1] == weight.shape[1],
                 "conv2d of \(x.shape) with weight \(weight.shape)")
    let window = Window2D(kernelH: weight.shape[2], kernelW: weight.shape[3], stride: stride, padding: padding)
    let (n, o) = (x.shape[0], weight.shape[0])
    let (oh, ow) = window.outputSize(x.shape[2], x.shape[3])
    let cols = x.gather(window.im2col(x.shape))
    let rows = matmul(cols, weight.reshaped([o, weight.value.count / o]), transposeB: true)    // [N·OH·OW, O]
    var y = rows.reshaped([n, oh * ow, o]).permuted([0, 2, 1]).reshaped([n, o, oh, ow])
    if let bias { y = y + bias.reshaped([1, o, 1, 1]) }
    return y
}

/// Max pooling over NCHW windows. The arg-max positions are fixed at forward time, so the
/// op is a gather: its gradient routes to the winners (first index on ties, like PyTorch).
public func maxPool2d(_ x: Variable, kernel: Int, stride: Int? = nil, padding: Int = 0) -> Variable {
    let window = Window2D(kernel: kernel, stride: stride, padding: padding)
    let (n, c) = (x.shape[0], x.shape[1])
    let (oh, ow) = window.outputSize(x.shape[2], x.shape[3])
    let planes = window.im2col([n * c, 1, x.shape[2], x.shape[3]])
    let k = window.kernel.h * window.kernel.w
    var winners = [Int32](repeating: 0, count: n * c * oh * ow)
    x.value.withUnsafeBuffer { v in
        planes.indices.withUnsafeBufferPointer { idx in
            for r in 0..<winners.count {
                var best: Int32 = -1, bestValue = -Float.infinity
                for j in 0..<k {
                    let i = idx[r * k + j]
                    if i >= 0, best < 0 || v[Int(i)] > bestValue { best = i; bestValue = v[Int(i)] }
                }
                winners[r] = best
            }
        }
    }
    return x.gather(IndexMap(sourceShape: x.shape, outputShape: [n, c, oh, ow], indices: winners))
}

/// Average pooling over NCHW windows; padded positions count as zeros (PyTorch's
/// `count_include_pad=True` default).
public func avgPool2d(_ x: Variable, kernel: Int, stride: Int? = nil, padding: Int = 0) -> Variable {
    let window = Window2D(kernel: kernel, stride: stride, padding: padding)
    let (n, c) = (x.shape[0], x.shape[1])
    let (oh, ow) = window.outputSize(x.shape[2], x.shape[3])
    let k = window.kernel.h * window.kernel.w
    let planes = x.reshaped([n * c, 1, x.shape[2], x.shape[3]])
    let windows = planes.gather(window.im2col(planes.shape))                 // [N·C·OH·OW, K]
    return (windows.sum(to: [n * c * oh * ow, 1]) * (1 / Float(k))).reshaped([n, c, oh, ow])
}

/// Inverted dropout: zeroes each element with probability `p` and scales survivors by
/// 1/(1−p), so evaluation needs no rescaling. Draws from `rng`.
public func dropout(_ x: Variable, p: Float, rng: inout RandomStream) -> Variable {
    precondition(p >= 0 && p < 1, "dropout probability \(p) outside [0, 1)")
    if p == 0 { return x }
    let keep = 1 / (1 - p)
    let mask = Tensor(shape: x.shape, scalars: (0..<x.value.count).map { _ in rng.uniform() < p ? 0 : keep })
    return x * Variable(mask)
}
