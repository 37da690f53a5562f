import XCTest
@testable import GradusCore

/// The sequence-model operations (batched products, permutations, embedding gathers, GELU/SiLU,
/// masked softmax attention) against finite differences, to first and second order.
extension GradientCheckTests {
    func testBatchedMatmulPermutationsAndGathers() {
        for ta in [false, true] {
            for tb in [false, true] {
                let a = random(ta ? [2, 4, 3] : [2, 3, 4]), b = random(tb ? [2, 5, 4] : [2, 4, 5])
                check("batchedMatmul ta=\(ta) tb=\(tb)", [a, b]) { batchedMatmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
            }
        }
        check("permute 102", [random([2, 3, 4])]) { $0[0].permuted([1, 0, 2]) }
        check("permute 2013", [random([2, 3, 4, 2])]) { $0[0].permuted([2, 0, 1, 3]) }
        check("gatherRows (repeats)", [random([5, 3])]) { $0[0].gatherRows([4, 0, 4, 2]) }
    }

    func testSmoothActivations() {
        check("erf", [random([4, 5])]) { $0[0].erf() }
        check("gelu", [random([4, 5], scale: 2)]) { $0[0].gelu() }
        check("silu", [random([4, 5], scale: 2)]) { $0[0].silu() }
        // Values: Φ(1) = 0.841344746…, erf(0.5) = 0.520499877…, silu(1) = 1/(1 + e⁻¹).
        let x = Variable(Tensor(shape: [3], scalars: [1, 0.5, -2]))
        XCTAssertEqual(x.gelu().value.scalars[0], 0.8413447, accuracy: 1e-6)
        XCTAssertEqual(x.erf().value.scalars[1], 0.5204999, accuracy: 1e-6)
        XCTAssertEqual(x.gelu().value.scalars[2], -2 * 0.0227501319, accuracy: 1e-6)
        XCTAssertEqual(x.silu().value.scalars[0], Float(1 / (1 + exp(-1.0))), accuracy: 1e-6)
    }

    func testValuesOfPermutationsProductsAndMasks() {
        let table = Variable(Tensor(shape: [3, 2], scalars: [0, 1, 2, 3, 4, 5]))
        XCTAssertEqual(table.gatherRows([2, 0, 2]).value.scalars, [4, 5, 0, 1, 4, 5])
        let a = random([3, 2, 4]), b = random([3, 4, 5])
        let batched = Tensor.batchedMatmul(a, b)
        for i in 0..<3 {
            let ai = Tensor(shape: [2, 4], scalars: Array(a.scalars[(i * 8)..<(i * 8 + 8)]))
            let bi = Tensor(shape: [4, 5], scalars: Array(b.scalars[(i * 20)..<(i * 20 + 20)]))
            XCTAssertEqual(Array(batched.scalars[(i * 10)..<(i * 10 + 10)]), Tensor.matmul(ai, bi).scalars, "batch \(i) is one GEMM")
        }
        XCTAssertEqual(causalMask(3).scalars, [0, -1e9, -1e9, 0, 0, -1e9, 0, 0, 0])
        let p = (Variable(random([2, 3, 3])) + Variable(causalMask(3))).softmax().value
        for b in 0..<2 { for i in 0..<3 { for j in 0..<3 where j > i { XCTAssertEqual(p[flat: b * 9 + i * 3 + j], 0, "no attention to the future") } } }
    }

    /// One head of causal self-attention: q, k, v projections, scaled scores, masked softmax,
    /// weighted values; first derivatives by finite differences, then Hessian-vector products
    /// against finite differences of gradients.
    func testCausalAttentionToSecondOrder() {
        let (b, t, d) = (2, 3, 4)
        let x = Variable(random([b * t, d]))
        let mask = Variable(causalMask(t))
        func attention(_ p: [Variable]) -> Variable {
            let q = matmul(x, p[0]).reshaped([b, t, d]), k = matmul(x, p[1]).reshaped([b, t, d]), v = matmul(x, p[2]).reshaped([b, t, d])
            let scores = batchedMatmul(q, k, transposeB: true) * Float(1 / Double(d).squareRoot()) + mask
            return batchedMatmul(scores.softmax(), v).reshaped([b * t, d]).gelu()
        }
        let weights = [random([d, d], scale: 0.5), random([d, d], scale: 0.5), random([d, d], scale: 0.5)]
        check("causal attention", weights) { attention($0) }
        let w = Variable(random([b * t, d]))
        checkHessianVectorProducts(at: weights, along: [random([d, d]), random([d, d]), random([d, d])], tolerance: 3e-3) { (attention($0) * w).sum() }
    }
}
