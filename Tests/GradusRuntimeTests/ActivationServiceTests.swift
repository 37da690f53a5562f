import XCTest
@testable import GradusRuntime
import GradusCore
import GradusNN
import CGradusABI
import GradusTestSupport

/// The activation service: a C optimizer that declares needs_activations reads each layer's
/// input, output and output gradient, recorded by forward hooks during the step.
final class ActivationServiceTests: XCTestCase {
    static let probe = TestSupport.probeOptimizer(
        id: "test.activations", capabilities: "GRADUS_CAP_NEEDS_ACTIVATIONS",
        slots: ["input_sum", "output_sum", "output_grad_sum", "rows", "unknown_status"], step: """
            gradus_tensor_view in, out, grad, none;
            int32_t st = h->activation(c->run, "layers.0", GRADUS_ACTIVATION_INPUT, &in);
            if (!st) st = h->activation(c->run, "layers.1", GRADUS_ACTIVATION_OUTPUT, &out);
            if (!st) st = h->activation(c->run, "layers.2", GRADUS_ACTIVATION_OUTPUT_GRAD, &grad);
            if (st) return st;
            int32_t unknown = h->activation(c->run, "layers.9", GRADUS_ACTIVATION_INPUT, &none);
            double sums[3] = { 0, 0, 0 };
            for (int64_t i = 0; i < in.count; i++) sums[0] += in.data[i];
            for (int64_t i = 0; i < out.count; i++) sums[1] += out.data[i];
            for (int64_t i = 0; i < grad.count; i++) sums[2] += grad.data[i];
            for (uint32_t k = 0; k < g->count; k++) {
                const gradus_param *p = GRADUS_ARRAY_AT(const gradus_param, g->params, k);
                for (int j = 0; j < 3; j++) p->slots[j]->data[0] = (float)sums[j];
                p->slots[3]->data[0] = (float)in.shape[0];
                p->slots[4]->data[0] = (float)unknown;
            }
            return GRADUS_OK;
        """)

    func testOptimizersReadLayerActivationsAndOutputGradients() throws {
        var cfg = TrainConfig()
        cfg.optimizer = "test.activations"
        cfg.hidden = [16]
        let trainer = try Trainer(config: cfg, registry: TestSupport.registry(compilingC: Self.probe))
        let rows = Array(0..<32)[...]
        _ = try trainer.step(rows)

        // What the hooks should have seen: layers.0 = Linear, layers.1 = ReLU, layers.2 = head.
        let (x, y) = trainer.train.batch(rows)
        let b = ParameterBindings(trainer.model.parameters)
        let hidden = try trainer.model.layers[0].forward(Variable(x), b, mode: .train)
        let relu = try trainer.model.layers[1].forward(hidden, b, mode: .train)
        let logits = try trainer.model.layers[2].forward(relu, b, mode: .train)
        let dLogits = Autodiff.gradients(of: crossEntropy(logits: logits, labels: y), wrt: [logits])[0].value
        func sum(_ t: Tensor) -> Float { Float(t.scalars.reduce(0.0) { $0 + Double($1) }) }
        let slot = { (name: String) in trainer.optimizer.slot(name, of: 0)!.values[0] }
        XCTAssertEqual(slot("input_sum"), sum(x))
        XCTAssertEqual(slot("output_sum"), sum(relu.value))
        XCTAssertEqual(slot("output_grad_sum"), sum(dLogits))
        XCTAssertEqual(slot("rows"), 32)
        XCTAssertEqual(slot("unknown_status"), Float(GRADUS_ERR_INVALID_ARGUMENT), "an unknown module is an error, not a crash")
    }
}
