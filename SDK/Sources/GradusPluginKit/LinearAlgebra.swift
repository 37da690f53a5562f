import CGradusABI

/// The host's dense linear algebra for plugins (row-major float32; BLAS and LAPACK live in the host,
/// so a plugin binary bundles neither). Get it from `StepContext.linearAlgebra`.
public struct LinearAlgebra {
    let services: UnsafePointer<gradus_host_services>

    /// C ← α·op(A)·op(B) + β·C with op(A) m×k, op(B) k×n, C m×n, all row-major and dense.
    public func gemm(_ a: UnsafePointer<Float>, transposeA: Bool = false, _ b: UnsafePointer<Float>, transposeB: Bool = false,
                     into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0) throws {
        guard let gemm = services.pointee.gemm else { throw PluginError.unsupported("the host offers no gemm") }
        let status = gemm(services.pointee.host, transposeA ? 1 : 0, transposeB ? 1 : 0, Int64(m), Int64(n), Int64(k), alpha,
                          a, Int64(transposeA ? m : k), b, Int64(transposeB ? k : n), beta, c, Int64(n))
        guard status == GRADUS_OK else { throw PluginError.numeric("gemm \(m)×\(k) · \(k)×\(n) failed with status \(status)") }
    }

    /// A linear-algebra service of ABI 1.2, or an error on an older host.
    func service<F>(_ field: KeyPath<gradus_host_services, F?>, _ name: String) throws -> F {
        guard let offset = MemoryLayout<gradus_host_services>.offset(of: field),
              Int(services.pointee.struct_size) >= offset + MemoryLayout<F?>.size, let f = services.pointee[keyPath: field] else {
            throw PluginError.unsupported("the host offers no \(name) (it needs ABI 1.2)")
        }
        return f
    }

    func check(_ status: Int32, _ what: String) throws {
        guard status == GRADUS_OK else { throw PluginError.host(status) }
    }

    /// rows·cols, or an error naming the call when it overflows or does not match `count`.
    func elements(_ rows: Int, _ cols: Int, _ what: String, count: Int? = nil) throws -> Int {
        let (n, overflow) = rows.multipliedReportingOverflow(by: cols)
        guard rows > 0, cols > 0, !overflow, count.map({ $0 == n }) ?? true else {
            throw PluginError.invalidArgument("\(what): a \(rows)×\(cols) matrix\(count.map { " given \($0) values" } ?? "") is not valid")
        }
        return n
    }

    /// Thin SVD of the m×n matrix `a`: (u m×k, s k descending, vt k×n), k = min(m, n); each
    /// singular vector's largest-magnitude entry is positive.
    public func svd(_ a: [Float], m: Int, n: Int) throws -> (u: [Float], s: [Float], vt: [Float]) {
        let f = try service(\.svd, "svd"), k = min(m, n)
        _ = try elements(m, n, "svd", count: a.count)
        var u = [Float](repeating: 0, count: m * k), s = [Float](repeating: 0, count: k), vt = [Float](repeating: 0, count: k * n)
        try check(f(services.pointee.host, Int64(m), Int64(n), a, &u, &s, &vt), "svd")
        return (u, s, vt)
    }

    /// Eigenvalues (ascending) and eigenvectors (columns of the n×n result) of the symmetric n×n `a`.
    public func symmetricEigen(_ a: [Float], n: Int) throws -> (values: [Float], vectors: [Float]) {
        let f = try service(\.sym_eig, "sym_eig")
        _ = try elements(n, n, "sym_eig", count: a.count)
        var w = [Float](repeating: 0, count: n), v = [Float](repeating: 0, count: n * n)
        try check(f(services.pointee.host, Int64(n), a, &w, &v), "sym_eig")
        return (w, v)
    }

    /// Thin QR of the m×n `a` (m ≥ n): q m×n with orthonormal columns, r n×n upper with diagonal ≥ 0.
    public func qr(_ a: [Float], m: Int, n: Int) throws -> (q: [Float], r: [Float]) {
        let f = try service(\.qr, "qr")
        _ = try elements(m, n, "qr", count: a.count)
        var q = [Float](repeating: 0, count: m * n), r = [Float](repeating: 0, count: n * n)
        try check(f(services.pointee.host, Int64(m), Int64(n), a, &q, &r), "qr")
        return (q, r)
    }

    /// The lower Cholesky factor of the symmetric positive definite n×n `a`.
    public func cholesky(_ a: [Float], n: Int) throws -> [Float] {
        let f = try service(\.cholesky, "cholesky")
        _ = try elements(n, n, "cholesky", count: a.count)
        var l = [Float](repeating: 0, count: n * n)
        try check(f(services.pointee.host, Int64(n), a, &l), "cholesky")
        return l
    }

    /// X with op(T)·X = B for the n×n triangular `t` (lower or upper, op = transpose when asked), B n×nrhs.
    public func solveTriangular(_ t: [Float], n: Int, lower: Bool, transpose: Bool = false, _ b: [Float], nrhs: Int) throws -> [Float] {
        let f = try service(\.triangular_solve, "triangular_solve")
        _ = try elements(n, n, "triangular_solve", count: t.count)
        _ = try elements(n, nrhs, "triangular_solve", count: b.count)
        var x = b
        try check(f(services.pointee.host, lower ? 1 : 0, transpose ? 1 : 0, Int64(n), Int64(nrhs), t, &x), "triangular_solve")
        return x
    }
}

extension StepContext {
    /// The host's linear algebra; an error when the host table lacks it.
    public var linearAlgebra: LinearAlgebra {
        get throws {
            guard let services else { throw PluginError.unsupported("no host services in this step") }
            return LinearAlgebra(services: services)
        }
    }
}
