import XCTest
import GradusCore
import GradusNN
import CGradusABI
@testable import GradusRuntime
import GradusTestSupport

/// BatchNorm against torch.nn.functional.batch_norm (Fixtures/batchnorm.json) in both forms,
/// LayerNorm's graph form against its kernel form, second-order gradients through a graph-form
/// normalizer, and the host's graph_op errors.
final class NormalizerFormsTests: XCTestCase {
    func session(_ id: String, _ shape: [Int], _ settings: [(String, String)], dims: Int = 1) throws -> NormalizerSession {
        try TestSupport.normalizerSession(id, shape, settings, dims: dims)
    }

    func assertClose(_ a: [Float], _ b: [Double], _ tol: Float, _ what: String, line: UInt = #line) {
        TestSupport.assertClose(a, b, tol, what, line: line)
    }

    func floats(_ c: [String: Any], _ key: String) -> [Float] { (c[key] as! [Double]).map(Float.init) }

    func testBatchNormKernelAndGraphFormsMatchTorch() throws {
        let root = try XCTUnwrap(TestSupport.fixture("batchnorm") as? [String: Any])
        for c in try XCTUnwrap(root["cases"] as? [[String: Any]]) {
            let name = c["name"] as! String, shape = c["shape"] as! [Int], affine = c["affine"] as! Bool
            let bn = try session("batchnorm", shape, [("eps", "\(c["eps"] as! Double)"), ("momentum", "\(c["momentum"] as! Double)"),
                                                      ("affine", affine ? "true" : "false")])
            XCTAssertEqual(bn.parameters.map(\.name), affine ? ["weight", "bias"] : [])
            XCTAssertEqual(bn.buffers.map(\.name), ["running_mean", "running_var"])
            XCTAssertEqual(bn.buffers[1].tensor.values, [Float](repeating: 1, count: shape[1]), "running_var starts at 1")
            if affine { bn.parameters[0].value.values = floats(c, "weight"); bn.parameters[1].value.values = floats(c, "bias") }
            func resetBuffers() { bn.buffers[0].tensor.values = floats(c, "running_mean0"); bn.buffers[1].tensor.values = floats(c, "running_var0") }
            let x = HostTensor(shape: shape, values: floats(c, "x")), dy = HostTensor(shape: shape, values: floats(c, "dy"))

            // Kernel form.
            resetBuffers()
            assertClose(try bn.forward(x, train: true).values, c["y"] as! [Double], 1e-5, "\(name) kernel y")
            assertClose(bn.buffers[0].tensor.values, c["running_mean"] as! [Double], 1e-6, "\(name) kernel running_mean")
            assertClose(bn.buffers[1].tensor.values, c["running_var"] as! [Double], 1e-6, "\(name) kernel running_var")
            assertClose(try bn.backward(x, dy: dy, train: true).values, c["dx"] as! [Double], 1e-4, "\(name) kernel dx")
            if affine {
                assertClose(bn.parameters[0].grad.values, c["dweight"] as! [Double], 1e-4, "\(name) kernel dweight")
                assertClose(bn.parameters[1].grad.values, c["dbias"] as! [Double], 1e-4, "\(name) kernel dbias")
            }
            assertClose(try bn.forward(x, train: false).values, c["y_eval"] as! [Double], 1e-5, "\(name) kernel y_eval")
            assertClose(try bn.backward(x, dy: dy, train: false).values, c["dx_eval"] as! [Double], 1e-5, "\(name) kernel dx_eval")

            // Graph form: the same numbers from host ops, gradients by the core.
            resetBuffers()
            let xv = Variable(Tensor(shape: shape, scalars: x.values), requiresGrad: true)
            let pv = bn.parameters.map { Variable(Tensor(shape: $0.value.shape, scalars: $0.value.values), requiresGrad: true) }
            let y = try bn.buildGraph(xv, parameters: pv, train: true, updatesBuffers: true)
            assertClose(y.value.scalars, c["y"] as! [Double], 1e-5, "\(name) graph y")
            assertClose(bn.buffers[0].tensor.values, c["running_mean"] as! [Double], 1e-6, "\(name) graph running_mean")
            assertClose(bn.buffers[1].tensor.values, c["running_var"] as! [Double], 1e-6, "\(name) graph running_var")
            let g = Autodiff.gradients(of: y, wrt: [xv] + pv, seed: Variable(Tensor(shape: shape, scalars: dy.values)))
            assertClose(g[0].value.scalars, c["dx"] as! [Double], 1e-4, "\(name) graph dx")
            if affine {
                assertClose(g[1].value.scalars, c["dweight"] as! [Double], 1e-4, "\(name) graph dweight")
                assertClose(g[2].value.scalars, c["dbias"] as! [Double], 1e-4, "\(name) graph dbias")
            }
            let before = bn.buffers.map(\.tensor.values)
            _ = try bn.buildGraph(xv, parameters: pv, train: true, updatesBuffers: false)
            XCTAssertEqual(bn.buffers.map(\.tensor.values), before, "\(name): a re-evaluation leaves the running statistics alone")
            let ye = try bn.buildGraph(xv, parameters: pv, train: false, updatesBuffers: true)
            assertClose(ye.value.scalars, c["y_eval"] as! [Double], 1e-5, "\(name) graph y_eval")
        }
    }

    func testBatchNormRefusesOneValuePerChannelInTrainMode() throws {
        let bn = try session("batchnorm", [1, 3], [])
        XCTAssertThrowsError(try bn.forward(HostTensor(shape: [1, 3], values: [1, 2, 3]), train: true)) {
            XCTAssertEqual("\($0)", "gradus.batchnorm: forward failed (invalid argument): train mode needs more than 1 value per channel, got 1")
        }
        XCTAssertThrowsError(try bn.buildGraph(Variable(Tensor(shape: [1, 3], scalars: [1, 2, 3])), parameters: [], train: true, updatesBuffers: true)) {
            XCTAssertTrue("\($0)".contains("graph_op 'mean': 1 elements per mean with correction 1.0; expected more than 1"), "\($0)")
        }
        XCTAssertThrowsError(try bn.forward(HostTensor(shape: [2, 4], values: Array(repeating: 0, count: 8)), train: true)) {
            XCTAssertEqual("\($0)", "gradus.batchnorm: input shape [2, 4], expected [N] + [3]")
        }
    }

    func testLayerNormGraphFormMatchesKernelForm() throws {
        let ln = try session("layernorm", [3, 2, 5], [], dims: 2)
        var rng = RandomStream(seed: 5, stream: "ln")
        for p in ln.parameters { p.value.values = (0..<p.value.count).map { _ in 1 + 0.3 * rng.normal() } }
        let xs = (0..<30).map { _ in rng.normal() * 2 }, dys = (0..<30).map { _ in rng.normal() }
        let x = HostTensor(shape: [3, 2, 5], values: xs)
        let y = try ln.forward(x).values
        let dx = try ln.backward(x, dy: HostTensor(shape: [3, 2, 5], values: dys)).values
        let xv = Variable(Tensor(shape: [3, 2, 5], scalars: xs), requiresGrad: true)
        let pv = ln.parameters.map { Variable(Tensor(shape: $0.value.shape, scalars: $0.value.values), requiresGrad: true) }
        let yg = try ln.buildGraph(xv, parameters: pv, train: true, updatesBuffers: true)
        let g = Autodiff.gradients(of: yg, wrt: [xv] + pv, seed: Variable(Tensor(shape: [3, 2, 5], scalars: dys)))
        assertClose(yg.value.scalars, y.map(Double.init), 1e-5, "y")
        assertClose(g[0].value.scalars, dx.map(Double.init), 1e-4, "dx")
        assertClose(g[1].value.scalars, ln.parameters[0].grad.values.map(Double.init), 1e-4, "dweight")
        assertClose(g[2].value.scalars, ln.parameters[1].grad.values.map(Double.init), 1e-4, "dbias")
    }

    /// Hessian-vector products pass through a graph-form normalizer inside a model: checked
    /// against central differences of gradients.
    func testHessianVectorProductThroughGraphFormNormalizers() throws {
        let registry = TestSupport.builtinRegistry()
        for id in ["layernorm", "batchnorm"] {
            let strategy = try registry.require(id, kind: .normalizer)
            let hp = try HyperparameterSet(schema: strategy.hyperparameters, owner: strategy.id)
            let model = try Sequential.mlp([4, 6, 3], seed: 3) { name, shape, axis in
                try PluginNormalization(strategy: strategy, hyperparameters: hp, name: name, sampleShape: shape, channelAxis: axis, batchSize: 5)
            }
            XCTAssertEqual(model.parameters.map(\.name), ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.3.weight", "layers.3.bias"])
            var rng = RandomStream(seed: 8, stream: "hvp")
            let x = Variable(Tensor(shape: [5, 4], scalars: (0..<20).map { _ in rng.normal() }))
            func loss(_ values: [Tensor]) throws -> (Variable, [Variable]) {
                let b = ParameterBindings(model.parameters, values: values)
                b.updatesStatistics = false
                return (crossEntropy(logits: try model.forward(x, b, mode: .train), labels: [0, 1, 2, 1, 0]), b.variables)
            }
            let theta = model.parameters.map(\.value)
            let vs = theta.map { t in Tensor(shape: t.shape, scalars: (0..<t.count).map { _ in rng.normal() }) }
            let (l, leaves) = try loss(theta)
            let hv = Autodiff.hessianVectorProduct(of: l, wrt: leaves, vectors: vs)
            let r: Float = 1e-3
            func grads(_ sign: Float) throws -> [Tensor] {
                let (l, leaves) = try loss(zip(theta, vs).map { Tensor.zipWith($0, $1) { a, v in a + sign * r * v } })
                return Autodiff.gradients(of: l, wrt: leaves).map(\.value)
            }
            let gp = try grads(1), gm = try grads(-1)
            for k in hv.indices {
                let numeric = (0..<hv[k].count).map { (Double(gp[k][flat: $0]) - Double(gm[k][flat: $0])) / Double(2 * r) }
                let scale = max(1, numeric.map(abs).max()!)
                for i in 0..<hv[k].count {
                    XCTAssertEqual(Double(hv[k][flat: i]), numeric[i], accuracy: 5e-3 * scale, "\(id) Hv[\(k)][\(i)]")
                }
            }
        }
    }

    func testGraphOpErrorsNameTheOpAndTheProblem() throws {
        let graph = HostGraph(updatesBuffers: true)
        let a = graph.add(Variable(Tensor(shape: [2, 3], repeating: 1))), b = graph.add(Variable(Tensor(shape: [4], repeating: 1)))
        func message(_ op: String, _ inputs: [gradus_node], _ attrs: [String: GraphAttr] = [:]) -> String {
            do { _ = try graph.apply(op, inputs, attrs); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message("add", [a, b]), "graph_op 'add': shapes [2, 3] and [4] do not broadcast")
        XCTAssertEqual(message("rsqrt", [a, a]), "graph_op 'rsqrt': 2 inputs, expected 1")
        XCTAssertEqual(message("mean", [a]), "graph_op 'mean': missing attribute 'axes'")
        XCTAssertEqual(message("neg", [7]), "graph_op 'neg': input 0 is node 7, not a node of this graph")
        XCTAssertEqual(message("assign", [a, a]), "graph_op 'assign': input 0 (node 0) is not a buffer")
        XCTAssertTrue(message("softplus", [a]).hasPrefix("graph_op 'softplus': unknown op (expected one of add, div, exp,"))
        XCTAssertEqual(graph.nodes.count, 2, "failed ops add no nodes")
    }
}
