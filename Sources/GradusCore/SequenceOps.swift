import Glibc

// The operations sequence models need: batched matrix products, row gathers for embeddings
// (an index-map gather, whose adjoint is a scatter-add), and the smooth activations of
// transformers; attention heads are split and joined with `permuted` (GatherOps). Every
// pullback is written with differentiable operations, so gradients of every order flow through.

extension Tensor {
    /// op(a)·op(b) for each of the leading batch of matrices: a [B, M, K], b [B, K, N] (op swaps
    /// the last two axes when asked), through one GEMM per batch entry.
    public static func batchedMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0], "batchedMatmul needs [B, M, K] and [B, K, N], got \(a.shape) and \(b.shape)")
        let batch = a.shape[0]
        let m = transposeA ? a.shape[2] : a.shape[1], k = transposeA ? a.shape[1] : a.shape[2]
        let k2 = transposeB ? b.shape[2] : b.shape[1], n = transposeB ? b.shape[1] : b.shape[2]
        precondition(k == k2, "batchedMatmul: inner sizes \(k) and \(k2) differ (\(a.shape) · \(b.shape))")
        var out = Tensor(shape: [batch, m, n], repeating: 0)
        if batch == 0 || m == 0 || n == 0 || k == 0 { return out }
        let aStride = a.shape[1] * a.shape[2], bStride = b.shape[1] * b.shape[2]
        out.withUnsafeMutableBuffer { c in
            for i in 0..<batch {
                BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                          a: a.storage.pointer + i * aStride, lda: a.shape[2], b: b.storage.pointer + i * bStride, ldb: b.shape[2],
                          beta: 0, c: c.baseAddress! + i * m * n, ldc: n)
            }
        }
        return out
    }
}

/// op(a)·op(b) for batches of matrices ([B, M, K]·[B, K, N]); see `Tensor.batchedMatmul`.
public func batchedMatmul(_ a: Variable, _ b: Variable, transposeA ta: Bool = false, transposeB tb: Bool = false) -> Variable {
    Variable.result(Tensor.batchedMatmul(a.value, b.value, transposeA: ta, transposeB: tb), [a, b]) { g in
        let da = !a.requiresGrad ? nil : ta ? batchedMatmul(b, g, transposeA: tb, transposeB: true) : batchedMatmul(g, b, transposeA: false, transposeB: !tb)
        let db = !b.requiresGrad ? nil : tb ? batchedMatmul(g, a, transposeA: true, transposeB: ta) : batchedMatmul(a, g, transposeA: !ta, transposeB: false)
        return [da, db]
    }
}

extension Variable {
    /// Rows `indices` of a 2-D table [V, D] as [indices.count, D] (an embedding lookup): a
    /// gather through an index map, whose adjoint adds each gradient row into the row it came
    /// from (and whose adjoint's adjoint is the gather again).
    public func gatherRows(_ indices: [Int]) -> Variable {
        precondition(value.rank == 2, "gatherRows needs a [V, D] table, got \(shape)")
        let (v, d) = (shape[0], shape[1])
        precondition(indices.allSatisfy { (0..<v).contains($0) }, "gatherRows: an index is outside 0..<\(v)")
        var map = [Int32](repeating: 0, count: indices.count * d)
        for (r, i) in indices.enumerated() { for j in 0..<d { map[r * d + j] = Int32(i * d + j) } }
        return gather(IndexMap(sourceShape: shape, outputShape: [indices.count, d], indices: map))
    }

    /// The error function, with derivative 2/√π·exp(−x²).
    public func erf() -> Variable {
        Variable.result(value.map { erff($0) }, [self]) { [self] g in
            [g * (-(self * self)).exp() * Float(2 / Double.pi.squareRoot())]
        }
    }

    /// GELU, the exact form x·Φ(x) = ½x(1 + erf(x/√2)) (PyTorch's default `nn.GELU()`).
    public func gelu() -> Variable {
        let x = self
        return x * ((x * Float(1 / 2.0.squareRoot())).erf() + 1) * 0.5
    }

    /// SiLU (swish): x·σ(x).
    public func silu() -> Variable { self * sigmoid() }
}

/// The additive causal mask of a length-`t` sequence: 0 where key j ≤ query i, −1e9 above the
/// diagonal (a finite value, so that no second-order term multiplies an infinity by zero;
/// exp(−1e9) is exactly 0 in float32, as exp(−∞) is).
public func causalMask(_ t: Int) -> Tensor {
    var out = Tensor(shape: [t, t], repeating: 0)
    out.withUnsafeMutableBuffer { m in for i in 0..<t { for j in (i + 1)..<max(i + 1, t) { m[i * t + j] = -1e9 } } }
    return out
}
