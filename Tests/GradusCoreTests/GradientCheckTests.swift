import XCTest
@testable import GradusCore

/// Every differentiable op against central finite differences, and Hessian-vector
/// products against finite differences of gradients.
final class GradientCheckTests: XCTestCase {
    var rng = RandomStream(seed: 42, stream: "gradcheck")

    func random(_ shape: [Int], scale: Float = 1, offset: Float = 0) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.normal() * scale + offset })
    }

    /// Checks d(sum(f(x)·w))/dx for each input against central differences (double-accumulated).
    func check(_ name: String, _ inputs: [Tensor], tolerance: Double = 3e-3, h: Float = 1e-2,
               _ f: ([Variable]) -> Variable, line: UInt = #line) {
        let vars = inputs.map { Variable($0, requiresGrad: true) }
        let out = f(vars)
        let w = Variable(random(out.shape))
        let analytic = Autodiff.gradients(of: (out * w).sum(), wrt: vars).map(\.value)
        func value(_ xs: [Tensor]) -> Double {
            let y = GradMode.with(recording: false) { f(xs.map { Variable($0) }) }
            return zip(y.value.scalars, w.value.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        for (k, x) in inputs.enumerated() {
            for i in 0..<x.count {
                var plus = inputs, minus = inputs
                plus[k][flat: i] += h
                minus[k][flat: i] -= h
                let numeric = (value(plus) - value(minus)) / Double(2 * h)
                let got = Double(analytic[k][flat: i])
                XCTAssertEqual(got, numeric, accuracy: tolerance * max(1, abs(numeric)), "\(name) input \(k)[\(i)]", line: line)
            }
        }
    }

    func testElementwiseOpsWithBroadcasting() {
        check("add", [random([3, 4]), random([4])]) { $0[0] + $0[1] }
        check("sub", [random([3, 1]), random([1, 4])]) { $0[0] - $0[1] }
        check("mul", [random([2, 3, 4]), random([3, 1])]) { $0[0] * $0[1] }
        check("div", [random([3, 4]), random([3, 4], scale: 0.2, offset: 2)]) { $0[0] / $0[1] }
        check("neg and scale", [random([5])]) { -($0[0] * 3) }
        check("scalar broadcast", [random([3, 4]), random([])]) { $0[0] * $0[1] }
    }

    func testUnaryOps() {
        check("relu", [random([4, 5])]) { $0[0].relu() }
        check("tanh", [random([4, 5])]) { $0[0].tanh() }
        check("sigmoid", [random([4, 5])]) { $0[0].sigmoid() }
        check("exp", [random([4, 5], scale: 0.5)]) { $0[0].exp() }
        check("log", [random([4, 5], scale: 0.2, offset: 2)]) { $0[0].log() }
    }

    func testShapeOpsAndReductions() {
        check("sum", [random([3, 4])]) { $0[0].sum() }
        check("mean", [random([3, 4])]) { $0[0].mean() }
        check("sum(to:)", [random([2, 3, 4])]) { $0[0].sum(to: [3, 1]) }
        check("broadcast", [random([4])]) { $0[0].broadcast(to: [3, 4]) }
        check("reshape", [random([3, 4])]) { $0[0].reshaped([2, 6]) }
        check("transpose", [random([3, 4])]) { $0[0].transposed() }
    }

    func testMatmulWithEveryTransposition() {
        for ta in [false, true] {
            for tb in [false, true] {
                let a = random(ta ? [4, 3] : [3, 4]), b = random(tb ? [5, 4] : [4, 5])
                check("matmul ta=\(ta) tb=\(tb)", [a, b]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
            }
        }
    }

    func testSoftmaxLossesAndPick() {
        check("logSoftmax", [random([3, 5])]) { $0[0].logSoftmax() }
        check("pick", [random([3, 5])]) { $0[0].pick([4, 0, 2]) }
        check("crossEntropy", [random([4, 3])]) { crossEntropy(logits: $0[0], labels: [0, 2, 1, 2]) }
        check("mse", [random([6]), random([6])]) { meanSquaredError($0[0], $0[1]) }
    }

    func testCrossEntropyValueMatchesDefinition() {
        let logits = Tensor(shape: [2, 3], scalars: [1, 2, 3, 0, 0, 0])
        let loss = crossEntropy(logits: Variable(logits), labels: [2, 1]).value.scalar
        let expected = (-(3 - log(exp(1) + exp(2) + exp(3))) + log(3.0)) / 2
        XCTAssertEqual(Double(loss), expected, accuracy: 1e-6)
    }

    /// Second derivatives: the gradient of every pullback is itself checked, by differentiating
    /// a gradient (one HVP per op family) against finite differences of gradients.
    func testHessianVectorProductsOnASmallNetwork() {
        let x = Variable(random([5, 3]))
        let labels = [0, 1, 2, 1, 0]
        let w1 = random([3, 4], scale: 0.7), b1 = random([4], scale: 0.1), w2 = random([4, 3], scale: 0.7)
        func loss(_ p: [Variable]) -> Variable {
            let h = (matmul(x, p[0]) + p[1]).tanh()
            let s = matmul(h, p[2]).sigmoid() * Variable(Tensor(3))
            return crossEntropy(logits: s, labels: labels) + (p[2] * p[2]).mean()
        }
        checkHessianVectorProducts(at: [w1, b1, w2], along: [random([3, 4]), random([4]), random([4, 3])], tolerance: 2e-3, loss)
    }

    /// Hv of `loss` at `point` along `vs` (autodiff, second order) against the central difference
    /// of gradients (g(p + r·v) − g(p − r·v)) / 2r.
    func checkHessianVectorProducts(at point: [Tensor], along vs: [Tensor], tolerance: Double, _ loss: ([Variable]) -> Variable,
                                    line: UInt = #line) {
        let params = point.map { Variable($0, requiresGrad: true) }
        let hv = Autodiff.hessianVectorProduct(of: loss(params), wrt: params, vectors: vs)
        let r: Float = 1e-2
        func grads(_ sign: Float) -> [Tensor] {
            let moved = zip(point, vs).map { Variable(Tensor.zipWith($0, $1) { a, v in a + sign * r * v }, requiresGrad: true) }
            return Autodiff.gradients(of: loss(moved), wrt: moved).map(\.value)
        }
        let gp = grads(1), gm = grads(-1)
        for k in point.indices {
            for i in 0..<hv[k].count {
                let numeric = (Double(gp[k][flat: i]) - Double(gm[k][flat: i])) / Double(2 * r)
                XCTAssertEqual(Double(hv[k][flat: i]), numeric, accuracy: tolerance * max(1, abs(numeric)), "Hv[\(k)][\(i)]", line: line)
            }
        }
    }

    func testHessianOfRosenbrockAtAPoint() {
        // H = [[1200x² − 400y + 2, −400x], [−400x, 200]] at (x, y) = (0.5, 0.3).
        let p = Variable(Tensor(shape: [2], scalars: [0.5, 0.3]), requiresGrad: true)
        func rosenbrock(_ p: Variable) -> Variable {
            let x = p.pick1(0), y = p.pick1(1)
            let one = Variable(Tensor(1))
            return (one - x) * (one - x) + (y - x * x) * (y - x * x) * 100
        }
        let h0 = Autodiff.hessianVectorProduct(of: rosenbrock(p), wrt: [p], vectors: [Tensor(shape: [2], scalars: [1, 0])])[0]
        let h1 = Autodiff.hessianVectorProduct(of: rosenbrock(p), wrt: [p], vectors: [Tensor(shape: [2], scalars: [0, 1])])[0]
        XCTAssertEqual(h0.scalars, [1200 * 0.25 - 400 * 0.3 + 2, -200].map { Float($0) })
        XCTAssertEqual(h1.scalars, [-200, 200])
    }

    func testLongChainsAreReleasedWithoutExhaustingTheStack() {
        let a = Variable(Tensor(1), requiresGrad: true)
        var y = a
        for _ in 0..<300_000 { y = y * Variable(Tensor(1)) }
        XCTAssertEqual(Autodiff.gradients(of: y, wrt: [a])[0].value.scalar, 1)
        y = a  // drops the 300k-node graph
    }

    func testFiniteness() {
        XCTAssertTrue(Tensor(shape: [1000], repeating: 3e38).isFinite)
        for bad in [Float.nan, .infinity, -.infinity, -Float.nan] {
            var t = Tensor(shape: [1000], repeating: -1)
            t[flat: 617] = bad
            XCTAssertFalse(t.isFinite, "\(bad)")
            var copy = [Float](repeating: 0, count: 1000)
            XCTAssertFalse(t.copyCheckingFinite(to: &copy), "\(bad)")
            XCTAssertEqual(copy[616], -1)
            XCTAssertEqual(copy[617].bitPattern, bad.bitPattern)
        }
        var copy = [Float](repeating: 0, count: 3)
        XCTAssertTrue(Tensor(shape: [3], scalars: [1, -2, 3e38]).copyCheckingFinite(to: &copy))
        XCTAssertEqual(copy, [1, -2, 3e38])
    }

    func testCopyOnWrite() {
        let a = Tensor(shape: [3], scalars: [1, 2, 3])
        var b = a
        b[flat: 0] = 9
        XCTAssertEqual(a.scalars, [1, 2, 3])
        XCTAssertEqual(b.scalars, [9, 2, 3])
        XCTAssertTrue(a.reshaped([1, 3]).storage === a.storage)
    }
}

extension Variable {
    /// Element `i` of a vector as a rank-0 variable (test helper built from differentiable ops).
    func pick1(_ i: Int) -> Variable { reshaped([1, shape[0]]).pick([i]).reshaped([]) }
}
