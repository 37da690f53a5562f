import GradusCore

/// The extreme eigenvalues of a symmetric operator known only through products v ↦ A·v, by the
/// Lanczos iteration (Lanczos 1950) with full reorthogonalisation: every new vector is
/// orthogonalised twice against all earlier ones (classical Gram–Schmidt, "twice is enough"), which
/// keeps the basis orthonormal in floating point and so avoids the spurious copies of converged
/// eigenvalues that plain Lanczos produces (Paige 1972; Golub & Van Loan, Matrix Computations,
/// §10.1–10.3). The Ritz values are the eigenvalues of the tridiagonal matrix T = QᵀAQ
/// (`SymmetricTridiagonal`); the largest converge first to the largest eigenvalues of A.
/// Vectors are kept in double precision.
public enum Lanczos {
    /// What an iteration produced.
    public struct Result: Sendable {
        /// Every Ritz value, descending (one per iteration done).
        public let ritzValues: [Double]
        /// The iterations done (fewer than asked only when the basis spans the whole space).
        public let iterations: Int
        /// T's diagonal and off-diagonal; a zero off-diagonal entry marks a restart after the
        /// Krylov space became invariant.
        public let diagonal: [Double]
        public let offDiagonal: [Double]
    }

    /// Runs `iterations` steps (at most `dimension`) from a seeded Gaussian start vector. When the
    /// Krylov space becomes invariant (the residual vanishes), the iteration continues from a new
    /// random vector orthogonal to the basis, so eigenvalues outside that space are still found.
    public static func run(dimension n: Int, iterations: Int, seed: UInt64,
                           apply: ([Double]) throws -> [Double]) throws -> Result {
        precondition(n >= 1 && iterations >= 1, "Lanczos needs a dimension and an iteration count of at least 1")
        let m = min(iterations, n)
        var rng = RandomStream(seed: seed, stream: "lanczos")
        func randomUnit(orthogonalTo basis: [[Double]]) -> [Double]? {
            var v = (0..<n).map { _ in Double(rng.normal()) }
            let initial = Vectors.norm(v)
            for _ in 0..<2 { for q in basis { Vectors.subtract(&v, Vectors.dot(v, q), q) } }
            let r = Vectors.norm(v)
            return r > 1e-8 * initial ? Vectors.scaled(v, 1 / r) : nil
        }
        var basis: [[Double]] = []
        var alpha: [Double] = [], beta: [Double] = []
        guard var q = randomUnit(orthogonalTo: []) else { return Result(ritzValues: [], iterations: 0, diagonal: [], offDiagonal: []) }
        for j in 0..<m {
            basis.append(q)
            var w = try apply(q)
            precondition(w.count == n, "the operator returned \(w.count) values for a vector of \(n)")
            guard w.allSatisfy(\.isFinite) else { throw GradusError("Lanczos: a Hessian-vector product is not finite at iteration \(j + 1)") }
            let a = Vectors.dot(w, q)
            alpha.append(a)
            if j == m - 1 { break }
            Vectors.subtract(&w, a, q)
            if j > 0 { Vectors.subtract(&w, beta[j - 1], basis[j - 1]) }
            for _ in 0..<2 { for v in basis { Vectors.subtract(&w, Vectors.dot(w, v), v) } }
            let b = Vectors.norm(w)
            let scale = max(alpha.map(abs).max() ?? 0, beta.max() ?? 0, .leastNormalMagnitude)
            if b > 1e-12 * scale {
                beta.append(b)
                q = Vectors.scaled(w, 1 / b)
            } else {
                guard let restart = randomUnit(orthogonalTo: basis) else { break }
                beta.append(0)
                q = restart
            }
        }
        let ritz = SymmetricTridiagonal.eigenvalues(diagonal: alpha, offDiagonal: Array(beta.prefix(max(0, alpha.count - 1))))
        return Result(ritzValues: ritz, iterations: alpha.count, diagonal: alpha, offDiagonal: Array(beta.prefix(max(0, alpha.count - 1))))
    }

    /// The bytes the basis of `iterations` vectors of `dimension` doubles takes, nil on overflow.
    public static func basisBytes(dimension: Int, iterations: Int) -> Int? {
        Checked.product([dimension, iterations, MemoryLayout<Double>.size])
    }
}
