import XCTest
@testable import GradusRuntime
import GradusCore
import GradusTestSupport

/// The RMSNorm plugin's kernel and graph forms against torch.nn.functional.rms_norm
/// (Fixtures/rmsnorm.json, from generate_golden.py), including torch's default ε.
final class RMSNormTests: XCTestCase {
    func cases() throws -> [[String: Any]] {
        let root = try XCTUnwrap(TestSupport.fixture("rmsnorm") as? [String: Any])
        return try XCTUnwrap(root["cases"] as? [[String: Any]])
    }

    func session(_ c: [String: Any]) throws -> NormalizerSession {
        let affine = c["affine"] as! Bool
        var settings = [("elementwise_affine", affine ? "true" : "false")]
        // The default-ε case leaves eps unset: the plugin's default must be torch's (float32 epsilon).
        if (c["name"] as! String) != "no-affine-default-eps" { settings.append(("eps", "\(c["eps"] as! Double)")) }
        let norm = try TestSupport.normalizerSession("rmsnorm", c["shape"] as! [Int], settings, dims: c["normalized_dims"] as! Int)
        XCTAssertEqual(norm.parameters.map(\.name), affine ? ["weight"] : [])
        if affine { norm.parameters[0].value.values = (c["weight"] as! [Double]).map(Float.init) }
        return norm
    }

    func testKernelFormMatchesTorch() throws {
        for c in try cases() {
            let name = c["name"] as! String, shape = c["shape"] as! [Int]
            let norm = try session(c)
            let x = HostTensor(shape: shape, values: (c["x"] as! [Double]).map(Float.init))
            let dy = HostTensor(shape: shape, values: (c["dy"] as! [Double]).map(Float.init))
            TestSupport.assertClose(try norm.forward(x).values, c["y"] as! [Double], 1e-5, "\(name) y")
            TestSupport.assertClose(try norm.backward(x, dy: dy).values, c["dx"] as! [Double], 1e-4, "\(name) dx")
            if c["affine"] as! Bool { TestSupport.assertClose(norm.parameters[0].grad.values, c["dweight"] as! [Double], 1e-4, "\(name) dweight") }
        }
    }

    func testGraphFormMatchesTorch() throws {
        for c in try cases() {
            let name = c["name"] as! String, shape = c["shape"] as! [Int], affine = c["affine"] as! Bool
            let norm = try session(c)
            XCTAssertTrue(norm.hasGraph && norm.hasKernel, name)
            let x = Variable(Tensor(shape: shape, scalars: (c["x"] as! [Double]).map(Float.init)), requiresGrad: true)
            let p = affine ? [Variable(Tensor(shape: norm.parameters[0].value.shape, scalars: (c["weight"] as! [Double]).map(Float.init)), requiresGrad: true)] : []
            let y = try norm.buildGraph(x, parameters: p, train: true, updatesBuffers: false)
            let g = Autodiff.gradients(of: y, wrt: [x] + p, seed: Variable(Tensor(shape: shape, scalars: (c["dy"] as! [Double]).map(Float.init))))
            TestSupport.assertClose(y.value.scalars, c["y"] as! [Double], 1e-5, "\(name) graph y")
            TestSupport.assertClose(g[0].value.scalars, c["dx"] as! [Double], 1e-4, "\(name) graph dx")
            if affine { TestSupport.assertClose(g[1].value.scalars, c["dweight"] as! [Double], 1e-4, "\(name) graph dweight") }
        }
    }
}
