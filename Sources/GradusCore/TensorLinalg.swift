/// Matrix products and transposes.
extension Tensor {
    /// op(a)·op(b) for 2-D tensors through OpenBLAS, where op transposes when asked.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul needs 2-D tensors, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
        let k2 = transposeB ? b.shape[1] : b.shape[0], n = transposeB ? b.shape[0] : b.shape[1]
        precondition(k == k2, "matmul: inner sizes \(k) and \(k2) differ (\(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : ""))")
        var out = Tensor(shape: [m, n], repeating: 0)
        if m == 0 || n == 0 || k == 0 { return out }
        out.withUnsafeMutableBuffer { c in
            BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                      a: a.storage.pointer, lda: a.shape[1], b: b.storage.pointer, ldb: b.shape[1],
                      beta: 0, c: c.baseAddress!, ldc: n)
        }
        return out
    }

    /// The transpose of a 2-D tensor.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a 2-D tensor, got \(shape)")
        let r = shape[0], c = shape[1]
        var out = Tensor.uninitialized([c, r])
        withUnsafeBuffer { x in out.withUnsafeMutableBuffer { o in
            for i in 0..<r { for j in 0..<c { o[j * r + i] = x[i * c + j] } } } }
        return out
    }
}
