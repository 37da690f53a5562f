import COpenBLAS

/// Dense factorizations for plugins (ABI 1.2 linear-algebra services), computed by OpenBLAS's
/// LAPACK in double precision from float32 row-major input and rounded back once. Results are
/// made unique where LAPACK leaves a sign free, so they are deterministic across machines:
/// every singular vector and eigenvector has its largest-magnitude entry positive (the first
/// such entry on ties), and R of a QR factorization has a non-negative diagonal.
public enum LAPACK {
    /// Why a factorization failed: bad input (sizes, NULL buffers) or a numeric failure
    /// (no convergence, not positive definite, singular).
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public let numeric: Bool
        public init(description: String, numeric: Bool = false) { self.description = description; self.numeric = numeric }
    }

    /// Column-major doubles of the row-major `rows`×`cols` floats.
    static func columnMajor(_ a: UnsafePointer<Float>, rows: Int, cols: Int) -> [Double] {
        var out = [Double](repeating: 0, count: rows * cols)
        for i in 0..<rows { for j in 0..<cols { out[j * rows + i] = Double(a[i * cols + j]) } }
        return out
    }

    /// Writes column-major doubles (leading dimension `ld`) as row-major floats.
    static func store(_ a: [Double], ld: Int, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
        for i in 0..<rows { for j in 0..<cols { out[i * cols + j] = Float(a[j * ld + i]) } }
    }

    static func checkSize(_ sizes: Int..., what: String) throws {
        var total = 1
        for s in sizes {
            guard s > 0, s <= 1 << 28 else { total = .max; break }
            total *= s
        }
        guard total <= 1 << 28 else {
            throw Failure(description: "\(what): sizes \(sizes) must be positive with at most 2^28 elements")
        }
    }

    /// Index of the largest |v[i]| over `count` entries `stride` apart (the first on ties).
    static func dominant(_ v: (Int) -> Double, count: Int) -> Int {
        var best = 0
        for i in 1..<max(1, count) where abs(v(i)) > abs(v(best)) { best = i }
        return best
    }

    /// Thin SVD of the m×n matrix a: u (m×k), s (k, descending), vt (k×n), k = min(m, n).
    public static func svd(_ a: UnsafePointer<Float>, m: Int, n: Int, u: UnsafeMutablePointer<Float>, s: UnsafeMutablePointer<Float>,
                           vt: UnsafeMutablePointer<Float>) throws {
        try checkSize(m, n, what: "svd")
        let k = min(m, n)
        var work = columnMajor(a, rows: m, cols: n), sv = [Double](repeating: 0, count: k)
        var uc = [Double](repeating: 0, count: m * k), vc = [Double](repeating: 0, count: k * n), iwork = [Int32](repeating: 0, count: 8 * k)
        var mm = Int32(m), nn = Int32(n), lda = Int32(m), ldu = Int32(m), ldvt = Int32(k), info: Int32 = 0, query = -1 as Int32
        var size = 0.0
        dgesdd_("S", &mm, &nn, &work, &lda, &sv, &uc, &ldu, &vc, &ldvt, &size, &query, &iwork, &info, 1)
        var lwork = Int32(size), scratch = [Double](repeating: 0, count: max(1, Int(size)))
        dgesdd_("S", &mm, &nn, &work, &lda, &sv, &uc, &ldu, &vc, &ldvt, &scratch, &lwork, &iwork, &info, 1)
        guard info == 0 else { throw Failure(description: "svd of a \(m)×\(n) matrix did not converge (LAPACK info \(info))", numeric: true) }
        for c in 0..<k {
            let d = dominant({ uc[c * m + $0] }, count: m)
            if uc[c * m + d] < 0 {
                for i in 0..<m { uc[c * m + i] = -uc[c * m + i] }
                for j in 0..<n { vc[j * k + c] = -vc[j * k + c] }
            }
        }
        store(uc, ld: m, rows: m, cols: k, into: u)
        for i in 0..<k { s[i] = Float(sv[i]) }
        store(vc, ld: k, rows: k, cols: n, into: vt)
    }

    /// Eigendecomposition of the symmetric n×n matrix a (its lower triangle is read): eigenvalues
    /// ascending in w, eigenvectors as the columns of v.
    public static func symmetricEigen(_ a: UnsafePointer<Float>, n: Int, w: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>) throws {
        try checkSize(n, n, what: "sym_eig")
        var work = columnMajor(a, rows: n, cols: n), values = [Double](repeating: 0, count: n)
        var nn = Int32(n), lda = Int32(n), info: Int32 = 0, query = -1 as Int32, size = 0.0, isize: Int32 = 0
        dsyevd_("V", "L", &nn, &work, &lda, &values, &size, &query, &isize, &query, &info, 1, 1)
        var lwork = Int32(size), liwork = isize
        var scratch = [Double](repeating: 0, count: max(1, Int(size))), iwork = [Int32](repeating: 0, count: max(1, Int(isize)))
        dsyevd_("V", "L", &nn, &work, &lda, &values, &scratch, &lwork, &iwork, &liwork, &info, 1, 1)
        guard info == 0 else { throw Failure(description: "sym_eig of a \(n)×\(n) matrix did not converge (LAPACK info \(info))", numeric: true) }
        for c in 0..<n where work[c * n + dominant({ work[c * n + $0] }, count: n)] < 0 {
            for i in 0..<n { work[c * n + i] = -work[c * n + i] }
        }
        for i in 0..<n { w[i] = Float(values[i]) }
        store(work, ld: n, rows: n, cols: n, into: v)
    }

    /// Thin QR of the m×n matrix a (m ≥ n): q (m×n, orthonormal columns), r (n×n, upper, diagonal ≥ 0).
    public static func qr(_ a: UnsafePointer<Float>, m: Int, n: Int, q: UnsafeMutablePointer<Float>, r: UnsafeMutablePointer<Float>) throws {
        try checkSize(m, n, what: "qr")
        guard m >= n else { throw Failure(description: "qr: a \(m)×\(n) matrix has fewer rows than columns (expected m >= n)") }
        var work = columnMajor(a, rows: m, cols: n), tau = [Double](repeating: 0, count: n)
        var mm = Int32(m), nn = Int32(n), lda = Int32(m), info: Int32 = 0, query = -1 as Int32, size = 0.0
        dgeqrf_(&mm, &nn, &work, &lda, &tau, &size, &query, &info)
        var lwork = Int32(size), scratch = [Double](repeating: 0, count: max(1, Int(size)))
        dgeqrf_(&mm, &nn, &work, &lda, &tau, &scratch, &lwork, &info)
        guard info == 0 else { throw Failure(description: "qr of a \(m)×\(n) matrix failed (LAPACK info \(info))", numeric: true) }
        var upper = [Double](repeating: 0, count: n * n)
        for j in 0..<n { for i in 0...j { upper[j * n + i] = work[j * m + i] } }
        dorgqr_(&mm, &nn, &nn, &work, &lda, &tau, &size, &query, &info)
        lwork = Int32(size)
        scratch = [Double](repeating: 0, count: max(1, Int(size)))
        dorgqr_(&mm, &nn, &nn, &work, &lda, &tau, &scratch, &lwork, &info)
        guard info == 0 else { throw Failure(description: "qr of a \(m)×\(n) matrix failed forming Q (LAPACK info \(info))", numeric: true) }
        for i in 0..<n where upper[i * n + i] < 0 {
            for j in i..<n { upper[j * n + i] = -upper[j * n + i] }
            for row in 0..<m { work[i * m + row] = -work[i * m + row] }
        }
        store(work, ld: m, rows: m, cols: n, into: q)
        store(upper, ld: n, rows: n, cols: n, into: r)
    }

    /// The lower Cholesky factor l of the symmetric positive definite n×n matrix a (lower triangle read).
    public static func cholesky(_ a: UnsafePointer<Float>, n: Int, l: UnsafeMutablePointer<Float>) throws {
        try checkSize(n, n, what: "cholesky")
        var work = columnMajor(a, rows: n, cols: n)
        var nn = Int32(n), lda = Int32(n), info: Int32 = 0
        dpotrf_("L", &nn, &work, &lda, &info, 1)
        guard info == 0 else {
            throw Failure(description: info > 0 ? "cholesky: the \(n)×\(n) matrix is not positive definite (leading minor \(info))"
                                                : "cholesky: invalid argument \(-info)", numeric: info > 0)
        }
        for j in 0..<n { for i in 0..<j { work[j * n + i] = 0 } }
        store(work, ld: n, rows: n, cols: n, into: l)
    }

    /// Solves op(T)·X = B for the n×n triangular t (lower or upper; op = transpose when asked);
    /// b (n×nrhs) is overwritten with X.
    public static func solveTriangular(_ t: UnsafePointer<Float>, n: Int, lower: Bool, transpose: Bool,
                                       b: UnsafeMutablePointer<Float>, nrhs: Int) throws {
        try checkSize(n, n, what: "triangular_solve")
        try checkSize(n, nrhs, what: "triangular_solve")
        for i in 0..<n where t[i * n + i] == 0 || !t[i * n + i].isFinite {
            throw Failure(description: "triangular_solve: diagonal entry \(i) is \(t[i * n + i]) (a singular or non-finite triangle)", numeric: true)
        }
        var tt = (0..<(n * n)).map { Double(t[$0]) }, bb = (0..<(n * nrhs)).map { Double(b[$0]) }
        cblas_dtrsm(CblasRowMajor, CblasLeft, lower ? CblasLower : CblasUpper, transpose ? CblasTrans : CblasNoTrans, CblasNonUnit,
                    Int32(n), Int32(nrhs), 1, &tt, Int32(n), &bb, Int32(nrhs))
        for i in 0..<(n * nrhs) { b[i] = Float(bb[i]) }
    }
}
