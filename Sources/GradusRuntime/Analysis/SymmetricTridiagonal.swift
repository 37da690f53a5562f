/// Eigenvalues of a real symmetric tridiagonal matrix by bisection on Sturm sequence counts
/// (Givens 1954; Wilkinson, The Algebraic Eigenvalue Problem, 1965, ch. 5): the number of negative
/// pivots of the LDLᵀ factorisation of T − x·I is the number of eigenvalues below x, so each
/// eigenvalue is bracketed and halved down to double-precision resolution. Accurate to about
/// ε·‖T‖ in absolute terms, for any order of the matrix and for zero off-diagonal entries (which
/// split it into blocks).
public enum SymmetricTridiagonal {
    /// All eigenvalues, in descending order, of the matrix with `diagonal` (m entries) and
    /// `offDiagonal` (m − 1 entries).
    public static func eigenvalues(diagonal a: [Double], offDiagonal b: [Double]) -> [Double] {
        let m = a.count
        precondition(b.count == max(0, m - 1), "\(b.count) off-diagonal entries for order \(m)")
        guard m > 0 else { return [] }
        let squares = b.map { $0 * $0 }
        // Gershgorin discs bound every eigenvalue.
        var lo = Double.infinity, hi = -Double.infinity
        for i in 0..<m {
            let r = (i > 0 ? abs(b[i - 1]) : 0) + (i < m - 1 ? abs(b[i]) : 0)
            lo = min(lo, a[i] - r)
            hi = max(hi, a[i] + r)
        }
        let scale = max(abs(lo), abs(hi), .leastNormalMagnitude)
        let pivotFloor = max(Double.leastNormalMagnitude, Double.ulpOfOne * Double.ulpOfOne * (squares.max() ?? 0))
        lo -= 4 * Double.ulpOfOne * scale
        hi += 4 * Double.ulpOfOne * scale

        /// How many eigenvalues are below x.
        func below(_ x: Double) -> Int {
            var count = 0, d = 1.0
            for i in 0..<m {
                d = a[i] - x - (i > 0 ? squares[i - 1] / d : 0)
                if abs(d) < pivotFloor { d = -pivotFloor }
                if d < 0 { count += 1 }
            }
            return count
        }

        // The k-th smallest (0-based) lies in [l, h] once below(l) <= k < below(h).
        return (0..<m).reversed().map { k in
            var (l, h) = (lo, hi)
            for _ in 0..<200 {
                let mid = l + (h - l) / 2
                if mid <= l || mid >= h || h - l <= 2 * Double.ulpOfOne * max(abs(l), abs(h)) { break }
                if below(mid) > k { h = mid } else { l = mid }
            }
            return l + (h - l) / 2
        }
    }
}
