import COpenBLAS

/// Matrix products through OpenBLAS.
public enum BLAS {
    /// C = alpha·op(A)·op(B) + beta·C for row-major float32 matrices, where op(X) is X or Xᵀ.
    /// Sizes are (m×k)·(k×n) → m×n after op. The caller guarantees the buffers are large enough;
    /// `checkedGemm` validates sizes first.
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                            alpha: Float, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// Whether the leading dimensions are consistent with the sizes (row-major).
    public static func validGemmShape(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                                      lda: Int, ldb: Int, ldc: Int) -> Bool {
        guard m >= 0, n >= 0, k >= 0 else { return false }
        let aCols = transposeA ? m : k
        let bCols = transposeB ? k : n
        return lda >= max(1, aCols) && ldb >= max(1, bCols) && ldc >= max(1, n)
    }
}
