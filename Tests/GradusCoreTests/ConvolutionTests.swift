import XCTest
@testable import GradusCore

/// Convolution, pooling, dropout and the smaller ops added for normalizers, checked against
/// central differences (through `check`) and against direct loop implementations.
extension GradientCheckTests {
    func testConvolutionPoolingAndPermutationGradients() {
        check("permute", [random([2, 3, 4])]) { $0[0].permuted([2, 0, 1]) }
        check("conv2d", [random([2, 2, 5, 5]), random([3, 2, 3, 3]), random([3])]) {
            conv2d($0[0], weight: $0[1], bias: $0[2])
        }
        check("conv2d stride 2 padding 1", [random([1, 2, 5, 4]), random([2, 2, 3, 2])]) {
            conv2d($0[0], weight: $0[1], stride: 2, padding: 1)
        }
        check("maxPool2d", [random([2, 2, 4, 4])]) { maxPool2d($0[0], kernel: 2) }
        check("maxPool2d overlapping", [random([1, 1, 5, 5])]) { maxPool2d($0[0], kernel: 3, stride: 2, padding: 1) }
        check("avgPool2d", [random([2, 2, 4, 4])]) { avgPool2d($0[0], kernel: 2) }
        check("avgPool2d padded", [random([1, 2, 5, 5])]) { avgPool2d($0[0], kernel: 3, stride: 2, padding: 1) }
    }

    func testRootsAndSoftmaxGradients() {
        check("sqrt", [random([3, 4], scale: 0.2, offset: 2)]) { $0[0].sqrt() }
        check("rsqrt", [random([3, 4], scale: 0.2, offset: 2)]) { $0[0].rsqrt() }
        check("softmax", [random([3, 5])]) { $0[0].softmax() }
        check("add constant, divide constant", [random([4], scale: 0.2, offset: 2)]) { 2 / ($0[0] + 0.5) }
        check("constant minus, times constant", [random([4])]) { (1.5 - $0[0]) * ($0[0] - 0.25) * 3 }
        check("sin", [random([3, 4])]) { $0[0].sin() }
        check("cos", [random([3, 4])]) { $0[0].cos() }
        let map = IndexMap(sourceShape: [5], outputShape: [2, 3], indices: [4, -1, 0, 0, 2, 4])
        check("gather with padding and repeats", [random([5])]) { $0[0].gather(map) }
        check("scatterAdd", [random([2, 3])]) { $0[0].scatterAdd(map) }
    }

    func testConvolutionMatchesDirectSum() {
        let x = random([2, 3, 6, 5]), w = random([4, 3, 3, 2]), b = random([4])
        for (s, p) in [(1, 0), (2, 1), (1, 2)] {
            let y = conv2d(Variable(x), weight: Variable(w), bias: Variable(b), stride: s, padding: p).value
            let oh = (6 + 2 * p - 3) / s + 1, ow = (5 + 2 * p - 2) / s + 1
            XCTAssertEqual(y.shape, [2, 4, oh, ow])
            for n in 0..<2 { for o in 0..<4 { for i in 0..<oh { for j in 0..<ow {
                var acc = Double(b[flat: o])
                for c in 0..<3 { for ki in 0..<3 { for kj in 0..<2 {
                    let r = i * s - p + ki, q = j * s - p + kj
                    guard r >= 0, r < 6, q >= 0, q < 5 else { continue }
                    acc += Double(x[flat: ((n * 3 + c) * 6 + r) * 5 + q]) * Double(w[flat: ((o * 3 + c) * 3 + ki) * 2 + kj])
                } } }
                XCTAssertEqual(Double(y[flat: ((n * 4 + o) * oh + i) * ow + j]), acc, accuracy: 1e-4, "s\(s) p\(p) [\(n),\(o),\(i),\(j)]")
            } } } }
        }
    }

    func testPoolingValues() {
        let x = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map { Float(($0 * 7) % 16) })
        // rows: [0 7 14 5] [12 3 10 1] [8 15 6 13] [4 11 2 9]
        XCTAssertEqual(maxPool2d(Variable(x), kernel: 2).value.scalars, [12, 14, 15, 13])
        let expected: [Float] = [5.5, 7.5, 9.5, 7.5]
        XCTAssertEqual(avgPool2d(Variable(x), kernel: 2).value.scalars, expected)
        // Padded average counts the zeros (count_include_pad): corner window sees x[0,0] only.
        XCTAssertEqual(avgPool2d(Variable(x), kernel: 2, stride: 2, padding: 1).value[flat: 0], 0)
        XCTAssertEqual(avgPool2d(Variable(x), kernel: 3, stride: 3, padding: 1).value[flat: 0], Float(22) / 9)
    }

    func testDropoutKeepsExpectationAndRoutesGradientsThroughTheMask() {
        var r = RandomStream(seed: 7, stream: "dropout")
        let x = Variable(Tensor(shape: [100_000], repeating: 1), requiresGrad: true)
        let y = dropout(x, p: 0.25, rng: &r)
        let kept = y.value.scalars.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / 100_000, 0.75, accuracy: 0.01)
        XCTAssertTrue(kept.allSatisfy { abs($0 - 4.0 / 3) < 1e-6 })
        let g = Autodiff.gradients(of: y.sum(), wrt: [x])[0].value
        XCTAssertTrue(g.bitwiseEqual(y.value), "d(sum y)/dx is the scaled mask")
        var same = RandomStream(seed: 7, stream: "dropout")
        XCTAssertTrue(dropout(x, p: 0.25, rng: &same).value.bitwiseEqual(y.value), "same stream, same mask")
        XCTAssertTrue(dropout(x, p: 0, rng: &same) === x)
    }

    func testHessianVectorProductThroughConvolutionAndPooling() {
        let x = Variable(random([2, 1, 6, 6]))
        let w0 = random([3, 1, 3, 3], scale: 0.5), w1 = random([10, 12], scale: 0.5)
        func loss(_ p: [Variable]) -> Variable {
            let h = avgPool2d(conv2d(x, weight: p[0], padding: 1).tanh(), kernel: 3)   // [2, 3, 2, 2]
            return crossEntropy(logits: matmul(h.reshaped([2, 12]), p[1], transposeB: true), labels: [3, 7])
        }
        let params = [w0, w1].map { Variable($0, requiresGrad: true) }
        let vs = [random([3, 1, 3, 3]), random([10, 12])]
        let hv = Autodiff.hessianVectorProduct(of: loss(params), wrt: params, vectors: vs)
        // Central differences carry an O(r²) error that the curvature of tanh makes visible at
        // r = 1e-2 (measured: it shrinks 16x from r = 1e-2 to 3e-3); tolerances are relative
        // to the largest entry, since float32 gradients of a ~100-scale Hessian are noisy.
        let r: Float = 2e-3
        func grads(_ sign: Float) -> [Tensor] {
            let moved = zip([w0, w1], vs).map { Variable(Tensor.zipWith($0, $1) { a, v in a + sign * r * v }, requiresGrad: true) }
            return Autodiff.gradients(of: loss(moved), wrt: moved).map(\.value)
        }
        let gp = grads(1), gm = grads(-1)
        for k in 0..<2 {
            let numeric = (0..<hv[k].count).map { (Double(gp[k][flat: $0]) - Double(gm[k][flat: $0])) / Double(2 * r) }
            let scale = max(1, numeric.map(abs).max()!)
            for i in 0..<hv[k].count {
                XCTAssertEqual(Double(hv[k][flat: i]), numeric[i], accuracy: 2e-3 * scale, "Hv[\(k)][\(i)]")
            }
        }
    }
}
