/// Eigenvalues of a dense real symmetric matrix in double precision: Householder reduction to
/// tridiagonal form (Householder 1958; Golub & Van Loan, Matrix Computations, §8.3.1), then Sturm
/// bisection on the tridiagonal matrix (`SymmetricTridiagonal`). O(n³) for the reduction; used for
/// the tangent kernel, whose entries are double-precision sums.
public enum SymmetricEigenvalues {
    /// All eigenvalues of the symmetric n×n matrix `rows` (only its lower triangle is read), descending.
    public static func of(_ rows: [[Double]]) -> [Double] {
        let n = rows.count
        precondition(rows.allSatisfy { $0.count == n }, "a square matrix")
        guard n > 1 else { return rows.first.map { [$0[0]] } ?? [] }
        // A full symmetric copy, filled from the lower triangle.
        var a = rows
        for i in 0..<n { for j in (i + 1)..<n { a[i][j] = a[j][i] } }
        var diagonal = [Double](repeating: 0, count: n), off = [Double](repeating: 0, count: n - 1)
        for k in 0..<(n - 2) {
            // Reflect x = a[k+1..., k] onto a multiple of the first unit vector.
            let x = ((k + 1)..<n).map { a[$0][k] }
            let length = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
            diagonal[k] = a[k][k]
            guard length > 0 else { off[k] = 0; continue }
            let alpha = x[0] > 0 ? -length : length
            var v = x
            v[0] -= alpha
            let vn = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            off[k] = alpha
            guard vn > 0 else { continue }
            v = v.map { $0 / vn }
            // Trailing block B ← H·B·H with H = I − 2vvᵀ: B − v·wᵀ − w·vᵀ, w = 2(p − (vᵀp)v), p = B·v.
            let m = n - k - 1
            var p = [Double](repeating: 0, count: m)
            for i in 0..<m { var s = 0.0; for j in 0..<m { s += a[k + 1 + i][k + 1 + j] * v[j] }; p[i] = s }
            let c = zip(v, p).reduce(0) { $0 + $1.0 * $1.1 }
            let w = (0..<m).map { 2 * (p[$0] - c * v[$0]) }
            for i in 0..<m { for j in 0..<m { a[k + 1 + i][k + 1 + j] -= v[i] * w[j] + w[i] * v[j] } }
            for i in (k + 1)..<n { a[i][k] = 0; a[k][i] = 0 }
            a[k + 1][k] = alpha
            a[k][k + 1] = alpha
        }
        diagonal[n - 2] = a[n - 2][n - 2]
        diagonal[n - 1] = a[n - 1][n - 1]
        off[n - 2] = a[n - 1][n - 2]
        return SymmetricTridiagonal.eigenvalues(diagonal: diagonal, offDiagonal: off)
    }
}
