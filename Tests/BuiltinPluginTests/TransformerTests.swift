import Foundation
import XCTest
@testable import GradusRuntime
import GradusCore
import GradusNN
import GradusTestSupport

/// The decoder-only transformer against PyTorch on the same weights (fixtures written by
/// Fixtures/transformer/generate.py): logits, loss and every parameter's gradient, for post-,
/// pre- and Peri-LN placements with the LayerNorm plugin in both its forms, tied and untied
/// heads, all positions and the last one; and Hessian-vector products through it.
final class TransformerTests: XCTestCase {
    struct Case {
        let model: Transformer
        let ids: Variable
        let labels: [Int]
        let fixture: SafeTensors.Contents
    }

    func load(_ name: String, form: NormalizerForm) throws -> Case {
        let path = try TestSupport.fixturePath("transformer/\(name).safetensors")
        let fixture = try SafeTensors.decode(Data(contentsOf: URL(fileURLWithPath: path)), source: path)
        let m = fixture.metadata
        let shape = Transformer.Shape(vocabulary: Int(m["vocabulary"]!)!, context: Int(m["context"]!)!, dModel: Int(m["d_model"]!)!,
                                      heads: Int(m["heads"]!)!, layers: Int(m["layers"]!)!)
        let ids = try XCTUnwrap(fixture.tensors["ids"])
        let layerNorm = try TestSupport.builtinRegistry().require("layernorm", kind: .normalizer)
        let hp = try HyperparameterSet(schema: layerNorm.hyperparameters, owner: layerNorm.id)
        let model = try Transformer(shape, placement: NormPlacement(rawValue: m["placement"]!)!, tied: m["tied"] == "true",
                                    lastPositionOnly: m["last_position_only"] == "true", seed: 0) { name, sample, axis in
            try PluginNormalization(strategy: layerNorm, hyperparameters: hp, name: name, sampleShape: sample, channelAxis: axis,
                                    batchSize: ids.count, form: form, needsSecondOrder: form == .graph)
        }
        let names = Set(model.parameters.map(\.name))
        let expected = Set(fixture.tensors.keys.filter { !$0.hasPrefix("grad/") && !["ids", "labels", "logits", "loss"].contains($0) })
        XCTAssertEqual(names, expected, "the same parameters under the same names")
        for p in model.parameters {
            let value = try XCTUnwrap(fixture.tensors[p.name], p.name)
            XCTAssertEqual(value.shape, p.shape, p.name)
            value.copy(to: p.storage.pointer)
        }
        return Case(model: model, ids: Variable(ids), labels: try XCTUnwrap(fixture.tensors["labels"]).scalars.map { Int($0) }, fixture: fixture)
    }

    func testForwardAndBackwardMatchPyTorch() throws {
        for name in ["pre_untied", "post_tied", "peri_last"] {
            for form in [NormalizerForm.graph, .kernel] {
                let c = try load(name, form: form)
                let bindings = ParameterBindings(c.model.parameters)
                let logits = try c.model.forward(c.ids, bindings, mode: .train)
                let loss = crossEntropy(logits: logits, labels: c.labels)
                let expectedLogits = try XCTUnwrap(c.fixture.tensors["logits"])
                XCTAssertEqual(logits.shape, expectedLogits.shape)
                TestSupport.assertClose(logits.value.scalars, expectedLogits.scalars.map(Double.init), 2e-5, "\(name) \(form) logits")
                XCTAssertEqual(loss.value.scalar, try XCTUnwrap(c.fixture.tensors["loss"]).scalars[0], accuracy: 2e-6, "\(name) \(form) loss")
                let grads = Autodiff.gradients(of: loss, wrt: bindings.variables)
                for (p, g) in zip(c.model.parameters, grads) {
                    let want = try XCTUnwrap(c.fixture.tensors["grad/" + p.name], p.name)
                    TestSupport.assertClose(g.value.scalars, want.scalars.map(Double.init), 2e-5, "\(name) \(form) grad \(p.name)")
                }
            }
        }
    }

    /// HVPs through attention, GELU and the graph-form LayerNorm, against central differences
    /// of gradients along the same direction.
    func testHessianVectorProductsPassThrough() throws {
        let c = try load("pre_untied", form: .graph)
        let params = c.model.parameters
        var rng = RandomStream(seed: 5, stream: "hvp")
        let direction = params.map { Tensor(shape: $0.shape, scalars: (0..<$0.value.count).map { _ in rng.normal() }) }
        func gradients(_ shift: Float) throws -> [Tensor] {
            let values = zip(params, direction).map { p, d in Tensor.zipWith(p.value, d) { $0 + shift * $1 } }
            let bindings = ParameterBindings(params, values: values)
            let loss = crossEntropy(logits: try c.model.forward(c.ids, bindings, mode: .train), labels: c.labels)
            return Autodiff.gradients(of: loss, wrt: bindings.variables).map(\.value)
        }
        let bindings = ParameterBindings(params)
        let loss = crossEntropy(logits: try c.model.forward(c.ids, bindings, mode: .train), labels: c.labels)
        let hv = Autodiff.hessianVectorProduct(of: loss, wrt: bindings.variables, vectors: direction)
        let r: Float = 1e-2
        let (plus, minus) = (try gradients(r), try gradients(-r))
        var worst = 0.0, scale = 0.0
        for k in params.indices {
            for i in 0..<hv[k].count {
                let numeric = (Double(plus[k][flat: i]) - Double(minus[k][flat: i])) / Double(2 * r)
                worst = max(worst, abs(Double(hv[k][flat: i]) - numeric))
                scale = max(scale, abs(numeric))
            }
        }
        XCTAssertGreaterThan(scale, 1e-2, "a direction with curvature")
        XCTAssertLessThan(worst, 2e-2 * scale, "Hv against finite differences of gradients: worst \(worst), largest \(scale)")
    }
}
