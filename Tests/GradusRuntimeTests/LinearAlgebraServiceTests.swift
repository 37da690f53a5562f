import CGradusABI
import XCTest
@testable import GradusRuntime
import GradusCore

/// The ABI 1.2 linear-algebra services (svd, sym_eig, qr, cholesky, triangular_solve) as a plugin
/// calls them: each factorization reconstructs its input, has the promised structure and sign
/// convention, gives the same bits twice, and refuses bad sizes and hopeless matrices with a status
/// and a message.
final class LinearAlgebraServiceTests: XCTestCase {
    let s = HostServices.table.pointee

    func random(_ n: Int, seed: UInt64) -> [Float] {
        var rng = RandomStream(seed: seed, stream: "linalg")
        return (0..<n).map { _ in rng.normal() }
    }

    /// Row-major product of a (m×k) and b (k×n).
    func multiply(_ a: [Float], _ b: [Float], _ m: Int, _ k: Int, _ n: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for p in 0..<k { c[i * n + j] += a[i * k + p] * b[p * n + j] } } }
        return c
    }

    func transpose(_ a: [Float], _ m: Int, _ n: Int) -> [Float] {
        var t = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { t[j * m + i] = a[i * n + j] } }
        return t
    }

    func assertClose(_ a: [Float], _ b: [Float], _ what: String, tol: Float = 2e-5, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: tol, what, line: line) }
    }

    func identity(_ n: Int) -> [Float] { (0..<(n * n)).map { $0 % (n + 1) == 0 ? 1 : 0 } }

    func testSVDReconstructsWithOrthonormalFactorsAndFixedSigns() throws {
        for (m, n) in [(5, 3), (3, 5), (4, 4)] {
            let a = random(m * n, seed: UInt64(m * 10 + n)), k = min(m, n)
            var u = [Float](repeating: 0, count: m * k), sv = [Float](repeating: 0, count: k), vt = [Float](repeating: 0, count: k * n)
            XCTAssertEqual(s.svd(nil, Int64(m), Int64(n), a, &u, &sv, &vt), GRADUS_OK)
            let us = (0..<(m * k)).map { u[$0] * sv[$0 % k] }
            assertClose(multiply(us, vt, m, k, n), a, "\(m)×\(n): u·s·vt")
            assertClose(multiply(transpose(u, m, k), u, k, m, k), identity(k), "\(m)×\(n): uᵀu")
            assertClose(multiply(vt, transpose(vt, k, n), k, n, k), identity(k), "\(m)×\(n): vt·vtᵀ")
            XCTAssertEqual(sv, sv.sorted(by: >), "descending")
            for c in 0..<k {
                let column = (0..<m).map { u[$0 * k + c] }
                XCTAssertGreaterThan(column.max { abs($0) < abs($1) }!, 0, "largest entry of u's column \(c) is positive")
            }
            var u2 = u, s2 = sv, vt2 = vt
            _ = s.svd(nil, Int64(m), Int64(n), a, &u2, &s2, &vt2)
            XCTAssertEqual([u, sv, vt], [u2, s2, vt2], "deterministic")
        }
    }

    func testSymmetricEigenAndQRAndCholeskyAndTriangularSolve() throws {
        let n = 4, b = random(n * n, seed: 3)
        let spd = zip(multiply(b, transpose(b, n, n), n, n, n), identity(n)).map { $0 + $1 }
        var w = [Float](repeating: 0, count: n), v = [Float](repeating: 0, count: n * n)
        XCTAssertEqual(s.sym_eig(nil, Int64(n), spd, &w, &v), GRADUS_OK)
        XCTAssertEqual(w, w.sorted())
        assertClose(multiply(spd, v, n, n, n), (0..<(n * n)).map { v[$0] * w[$0 % n] }, "A·v = v·diag(w)", tol: 1e-4)
        // Only the lower triangle is read, as the header promises: garbage above the diagonal changes nothing.
        var lowerOnly = spd
        for i in 0..<n { for j in (i + 1)..<n { lowerOnly[i * n + j] = 99 } }
        var w2 = w, v2 = v
        XCTAssertEqual(s.sym_eig(nil, Int64(n), lowerOnly, &w2, &v2), GRADUS_OK)
        XCTAssertEqual([w2, v2], [w, v], "the upper triangle is not read")

        let (m, k) = (6, 3), a = random(m * k, seed: 4)
        var q = [Float](repeating: 0, count: m * k), r = [Float](repeating: 0, count: k * k)
        XCTAssertEqual(s.qr(nil, Int64(m), Int64(k), a, &q, &r), GRADUS_OK)
        assertClose(multiply(q, r, m, k, k), a, "q·r")
        assertClose(multiply(transpose(q, m, k), q, k, m, k), identity(k), "qᵀq")
        for i in 0..<k { XCTAssertGreaterThanOrEqual(r[i * k + i], 0); for j in 0..<i { XCTAssertEqual(r[i * k + j], 0) } }

        var l = [Float](repeating: 0, count: n * n)
        XCTAssertEqual(s.cholesky(nil, Int64(n), spd, &l), GRADUS_OK)
        assertClose(multiply(l, transpose(l, n, n), n, n, n), spd, "l·lᵀ", tol: 1e-4)
        var x = random(n * 2, seed: 5)
        let rhs = x
        XCTAssertEqual(s.triangular_solve(nil, 1, 0, Int64(n), 2, l, &x), GRADUS_OK)
        assertClose(multiply(l, x, n, n, 2), rhs, "l·x = b", tol: 1e-4)
        var y = rhs
        XCTAssertEqual(s.triangular_solve(nil, 1, 1, Int64(n), 2, l, &y), GRADUS_OK)
        assertClose(multiply(transpose(l, n, n), y, n, n, 2), rhs, "lᵀ·x = b", tol: 1e-4)
    }

    func testBadSizesAndHopelessMatricesAreStatusesWithMessages() {
        var out = [Float](repeating: 0, count: 16), out2 = out, out3 = out
        XCTAssertEqual(s.svd(nil, 0, 3, out, &out, &out2, &out3), GRADUS_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(PluginErrorSlot.shared.take(), "size 0 is not in 1...2147483647")
        XCTAssertEqual(s.svd(nil, 1 << 40, 3, out, &out, &out2, &out3), GRADUS_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(s.qr(nil, 2, 3, out, &out, &out2), GRADUS_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(PluginErrorSlot.shared.take(), "qr: a 2×3 matrix has fewer rows than columns (expected m >= n)")
        XCTAssertEqual(s.cholesky(nil, 2, [1, 2, 2, 1], &out), GRADUS_ERR_NUMERIC)
        XCTAssertEqual(PluginErrorSlot.shared.take(), "cholesky: the 2×2 matrix is not positive definite (leading minor 2)")
        var b: [Float] = [1, 1]
        XCTAssertEqual(s.triangular_solve(nil, 1, 0, 2, 1, [1, 0, 3, 0], &b), GRADUS_ERR_NUMERIC)
        XCTAssertEqual(PluginErrorSlot.shared.take(), "triangular_solve: diagonal entry 1 is 0.0 (a singular or non-finite triangle)")
        XCTAssertEqual(s.triangular_solve(nil, 1, 0, 1 << 28, 1, [1], &b), GRADUS_ERR_INVALID_ARGUMENT, "an n×n triangle over 2^28 elements")
        XCTAssertEqual(PluginErrorSlot.shared.take(), "triangular_solve: sizes [268435456, 268435456] must be positive with at most 2^28 elements")
        XCTAssertEqual(s.sym_eig(nil, 2, nil, &out, &out2), GRADUS_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(PluginErrorSlot.shared.take(), "sym_eig: NULL buffer")
    }
}
