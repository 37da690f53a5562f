import XCTest
import GradusCore
@testable import GradusRuntime
import GradusTestSupport

/// conv2d, max_pool2d and avg_pool2d against torch.nn.functional (Fixtures/convolution.json):
/// outputs and the gradients of every input for a random upstream gradient.
final class ConvolutionGoldenTests: XCTestCase {
    func tensor(_ c: [String: Any], _ key: String, _ shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: (c[key] as! [Double]).map(Float.init))
    }

    func assertClose(_ a: Tensor, _ b: [Double], _ what: String, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, line: line)
        var worst: Float = 0
        for (x, y) in zip(a.scalars, b) { worst = max(worst, abs(x - Float(y)) / max(1, abs(Float(y)))) }
        XCTAssertLessThanOrEqual(worst, 2e-5, "\(what): worst relative difference \(worst)", line: line)
    }

    func testMatchesTorch() throws {
        let root = try XCTUnwrap(TestSupport.fixture("convolution") as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 6)
        for c in cases {
            let name = c["name"] as! String, op = c["op"] as! String
            let xShape = c["x_shape"] as! [Int], yShape = c["y_shape"] as! [Int]
            let stride = c["stride"] as! Int, padding = c["padding"] as! Int
            let x = Variable(tensor(c, "x", xShape), requiresGrad: true)
            let dy = Variable(tensor(c, "dy", yShape))
            switch op {
            case "conv2d":
                let wShape = c["w_shape"] as! [Int]
                let w = Variable(tensor(c, "w", wShape), requiresGrad: true), b = Variable(tensor(c, "b", [wShape[0]]), requiresGrad: true)
                let y = conv2d(x, weight: w, bias: b, stride: stride, padding: padding)
                XCTAssertEqual(y.shape, yShape, name)
                assertClose(y.value, c["y"] as! [Double], "\(name) y")
                let g = Autodiff.gradients(of: y, wrt: [x, w, b], seed: dy)
                assertClose(g[0].value, c["dx"] as! [Double], "\(name) dx")
                assertClose(g[1].value, c["dw"] as! [Double], "\(name) dw")
                assertClose(g[2].value, c["db"] as! [Double], "\(name) db")
            default:
                let kernel = c["kernel"] as! Int
                let y = op == "max_pool2d" ? maxPool2d(x, kernel: kernel, stride: stride, padding: padding)
                                           : avgPool2d(x, kernel: kernel, stride: stride, padding: padding)
                XCTAssertEqual(y.shape, yShape, name)
                assertClose(y.value, c["y"] as! [Double], "\(name) y")
                assertClose(Autodiff.gradients(of: y, wrt: [x], seed: dy)[0].value, c["dx"] as! [Double], "\(name) dx")
            }
        }
    }
}
