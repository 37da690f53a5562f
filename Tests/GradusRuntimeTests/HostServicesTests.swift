import XCTest
@testable import GradusRuntime
import GradusCore
import GradusNN
import GradusTestSupport

/// The autodiff services a plugin reaches through the host table during a training step.
final class HostServicesTests: XCTestCase {
    /// A C optimizer that does not move the parameters but records what the services return.
    static let probe = TestSupport.probeOptimizer(
        id: "test.probe", capabilities: "GRADUS_CAP_NEEDS_LOSS | GRADUS_CAP_NEEDS_HVP | GRADUS_CAP_NEEDS_CLOSURE",
        slots: ["loss", "eval_loss", "eval_grad[]", "hv[]"], step: """
            double loss = 0, eval_loss = 0;
            int32_t st = h->loss(c->run, &loss);
            if (st) return st;
            const float **values = h->alloc(h->host, sizeof(float *) * g->count, 0);
            const float **vs = h->alloc(h->host, sizeof(float *) * g->count, 0);
            float **grads = h->alloc(h->host, sizeof(float *) * g->count, 0);
            float **hv = h->alloc(h->host, sizeof(float *) * g->count, 0);
            for (uint32_t k = 0; k < g->count; k++) {
                const gradus_param *p = GRADUS_ARRAY_AT(const gradus_param, g->params, k);
                values[k] = p->value->data; vs[k] = p->grad->data;
                grads[k] = p->slots[2]->data; hv[k] = p->slots[3]->data;
                p->slots[0]->data[0] = (float)loss;
            }
            st = h->evaluate_at(c->run, values, g->count, &eval_loss, grads);
            if (!st) st = h->hessian_vector_product(c->run, vs, hv, g->count);
            for (uint32_t k = 0; k < g->count; k++) GRADUS_ARRAY_AT(const gradus_param, g->params, k)->slots[1]->data[0] = (float)eval_loss;
            h->free(h->host, values); h->free(h->host, vs); h->free(h->host, grads); h->free(h->host, hv);
            return st;
        """)

    func testLossHVPAndReevaluationReachPlugins() throws {
        let registry = try TestSupport.registry(compilingC: Self.probe)
        var cfg = TrainConfig()
        cfg.optimizer = "test.probe"
        cfg.optimizerSettings = []
        cfg.hidden = [16]
        let trainer = try Trainer(config: cfg, registry: registry)
        let batch = Array(0..<32)[...]
        let before = trainer.model.parameters.map(\.value.scalars)
        let loss = try trainer.step(batch)

        // What the core computes directly on the same batch.
        let (x, y) = trainer.train.batch(batch)
        let bindings = ParameterBindings(trainer.model.parameters)
        let l = crossEntropy(logits: try trainer.model.forward(Variable(x), bindings, mode: .train), labels: y)
        let grads = Autodiff.gradients(of: l, wrt: bindings.variables).map(\.value)
        let hv = Autodiff.hessianVectorProduct(of: l, wrt: bindings.variables, vectors: grads)

        XCTAssertEqual(trainer.model.parameters.map(\.value.scalars), before, "the probe does not move parameters")
        XCTAssertEqual(trainer.optimizer.slot("loss", of: 0)!.values, [Float(loss)])
        XCTAssertEqual(trainer.optimizer.slot("eval_loss", of: 0)!.values, [Float(loss)])
        for i in trainer.model.parameters.indices {
            XCTAssertEqual(trainer.optimizer.slot("eval_grad", of: i)!.values, grads[i].scalars, "evaluate_at gradient \(i)")
            let got = trainer.optimizer.slot("hv", of: i)!.values
            XCTAssertEqual(got, hv[i].scalars, "Hv \(i)")
            XCTAssertTrue(got.contains { $0 != 0 })
        }
    }

    /// On a test function the services come from the core too: at Rosenbrock's start
    /// (-1.2, 1) the gradient is (-215.6, -88) and H = [[1330, 480], [480, 200]].
    func testTraceRunsOfferHVPAndReEvaluationOnTheTestFunction() throws {
        let probe = try TestSupport.registry(compilingC: Self.probe).require("test.probe", kind: .optimizer)
        let rosenbrock = try TestFunction.named("rosenbrock")
        let start: [Float] = [-1.2, 1]
        let param = HostParameter(name: "x", role: .vector, shape: [2], values: start)
        param.grad.values = rosenbrock.gradient(start)
        XCTAssertEqual(param.grad.values[0], -215.6, accuracy: 1e-3)
        XCTAssertEqual(param.grad.values[1], -88, accuracy: 1e-4)
        let session = try OptimizerSession(strategy: probe, hyperparameters: HyperparameterSet(schema: [], owner: probe.id),
                                           parameters: [param], available: HostCapabilities.trainingRun)
        try session.step(loss: 24.2, run: TestFunctionRunContext(function: rosenbrock, point: start))
        XCTAssertEqual(session.slot("loss", of: 0)!.values, [rosenbrock.value(start)])
        XCTAssertEqual(session.slot("eval_loss", of: 0)!.values, [rosenbrock.value(start)])
        XCTAssertEqual(session.slot("eval_grad", of: 0)!.values, param.grad.values)
        let hv = session.slot("hv", of: 0)!.values
        XCTAssertEqual(hv[0], 1330 * -215.6 + 480 * -88, accuracy: 1)
        XCTAssertEqual(hv[1], 480 * -215.6 + 200 * -88, accuracy: 1)
        var steps = 0
        try TraceRunner.run(optimizer: probe, function: rosenbrock, steps: 3) { _ in steps += 1 }
        XCTAssertEqual(steps, 4, "gradus trace runs strategies that need HVPs and closures")
    }
}
