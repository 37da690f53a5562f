import XCTest
@testable import GradusRuntime
import GradusCore
import GradusTestSupport

/// The LayerNorm plugin's kernel and graph forms against torch.nn.functional.layer_norm
/// (Fixtures/layernorm.json) and against central finite differences.
final class LayerNormTests: XCTestCase {
    func session(_ shape: [Int], dims: Int, settings: [(String, String)]) throws -> NormalizerSession {
        try TestSupport.normalizerSession("layernorm", shape, settings, dims: dims)
    }

    func assertClose(_ a: [Float], _ b: [Double], _ tol: Float, _ what: String, line: UInt = #line) {
        TestSupport.assertClose(a, b, tol, what, line: line)
    }

    func testForwardAndBackwardMatchTorch() throws {
        let root = try XCTUnwrap(TestSupport.fixture("layernorm") as? [String: Any])
        for c in try XCTUnwrap(root["cases"] as? [[String: Any]]) {
            let name = c["name"] as! String
            let shape = c["shape"] as! [Int]
            let affine = c["affine"] as! Bool
            let ln = try session(shape, dims: c["normalized_dims"] as! Int,
                                 settings: [("eps", "\(c["eps"] as! Double)"), ("elementwise_affine", affine ? "true" : "false")])
            XCTAssertEqual(ln.parameters.map(\.name), affine ? ["weight", "bias"] : [], name)
            if affine {
                ln.parameters[0].value.values = (c["weight"] as! [Double]).map(Float.init)
                ln.parameters[1].value.values = (c["bias"] as! [Double]).map(Float.init)
            }
            let x = HostTensor(shape: shape, values: (c["x"] as! [Double]).map(Float.init))
            let dy = HostTensor(shape: shape, values: (c["dy"] as! [Double]).map(Float.init))
            assertClose(try ln.forward(x).values, c["y"] as! [Double], 1e-5, "\(name) y")
            assertClose(try ln.backward(x, dy: dy).values, c["dx"] as! [Double], 1e-4, "\(name) dx")
            if affine {
                assertClose(ln.parameters[0].grad.values, c["dweight"] as! [Double], 1e-4, "\(name) dweight")
                assertClose(ln.parameters[1].grad.values, c["dbias"] as! [Double], 1e-5, "\(name) dbias")
            }
        }
    }

    /// The graph form (host ops, gradients from the autodiff core) against the same torch values.
    func testGraphFormMatchesTorch() throws {
        let root = try XCTUnwrap(TestSupport.fixture("layernorm") as? [String: Any])
        for c in try XCTUnwrap(root["cases"] as? [[String: Any]]) {
            let name = c["name"] as! String, shape = c["shape"] as! [Int], affine = c["affine"] as! Bool
            let ln = try session(shape, dims: c["normalized_dims"] as! Int,
                                 settings: [("eps", "\(c["eps"] as! Double)"), ("elementwise_affine", affine ? "true" : "false")])
            XCTAssertTrue(ln.hasGraph, name)
            let xv = Variable(Tensor(shape: shape, scalars: (c["x"] as! [Double]).map(Float.init)), requiresGrad: true)
            let pv = affine ? [Variable(Tensor(shape: ln.parameters[0].value.shape, scalars: (c["weight"] as! [Double]).map(Float.init)), requiresGrad: true),
                               Variable(Tensor(shape: ln.parameters[1].value.shape, scalars: (c["bias"] as! [Double]).map(Float.init)), requiresGrad: true)] : []
            let y = try ln.buildGraph(xv, parameters: pv, train: true, updatesBuffers: false)
            let g = Autodiff.gradients(of: y, wrt: [xv] + pv, seed: Variable(Tensor(shape: shape, scalars: (c["dy"] as! [Double]).map(Float.init))))
            assertClose(y.value.scalars, c["y"] as! [Double], 1e-5, "\(name) graph y")
            assertClose(g[0].value.scalars, c["dx"] as! [Double], 1e-4, "\(name) graph dx")
            if affine {
                assertClose(g[1].value.scalars, c["dweight"] as! [Double], 1e-4, "\(name) graph dweight")
                assertClose(g[2].value.scalars, c["dbias"] as! [Double], 1e-5, "\(name) graph dbias")
            }
        }
    }

    /// d/dθ of L = Σ y·w for fixed random w, by central differences in double-checked float32.
    func testGradientsMatchFiniteDifferences() throws {
        let shape = [3, 4]
        let ln = try session(shape, dims: 1, settings: [])
        var rng = SplitMix(seed: 7)
        let xs = (0..<12).map { _ in rng.float() * 3 }
        ln.parameters[0].value.values = (0..<4).map { _ in 1 + rng.float() * 0.5 }
        ln.parameters[1].value.values = (0..<4).map { _ in rng.float() }
        let w = (0..<12).map { _ in rng.float() }
        func loss(_ x: [Float]) throws -> Double {
            zip(try ln.forward(HostTensor(shape: shape, values: x)).values, w).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let dx = try ln.backward(HostTensor(shape: shape, values: xs), dy: HostTensor(shape: shape, values: w)).values
        let h: Float = 1e-2
        for i in 0..<12 {
            var plus = xs, minus = xs
            plus[i] += h; minus[i] -= h
            let numeric = (try loss(plus) - loss(minus)) / Double(2 * h)
            XCTAssertEqual(Double(dx[i]), numeric, accuracy: 2e-3, "dx[\(i)]")
        }
        let dGain = ln.parameters[0].grad.values
        for j in 0..<4 {
            let g0 = ln.parameters[0].value.values
            var gp = g0, gm = g0
            gp[j] += h; gm[j] -= h
            ln.parameters[0].value.values = gp
            let lp = try loss(xs)
            ln.parameters[0].value.values = gm
            let lm = try loss(xs)
            ln.parameters[0].value.values = g0
            XCTAssertEqual(Double(dGain[j]), (lp - lm) / Double(2 * h), accuracy: 2e-3, "dweight[\(j)]")
        }
    }

    func testBadNormalizedDimsIsRejected() throws {
        XCTAssertThrowsError(try session([2, 3], dims: 3, settings: [])) {
            XCTAssertEqual("\($0)", "gradus.layernorm: create failed (invalid argument): normalized_dims=3 for an input of rank 2, expected 1...2")
        }
    }
}

/// A tiny deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(next() >> 40) * 0x1p-23 - 1 }
}
