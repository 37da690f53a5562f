import XCTest
@testable import GradusRuntime
import GradusCore
import GradusTestSupport

/// Routing parameters to several optimizers in one run, and the global gradient transforms before
/// the optimizers (clip_grad_norm, accumulate_steps).
final class RoutingAndTransformsTests: XCTestCase {
    func routed(epochs: Int) -> TrainConfig {
        var c = TrainConfig()
        c.optimizer = "adamw"
        c.optimizerSettings = [("lr", "0.003")]
        c.routes = [("matrix", "muon", [("lr", "0.02")])]
        c.hidden = [32]
        c.epochs = epochs
        return c
    }

    /// Muon takes the hidden matrices, AdamW everything else, each with its own state; a run resumed
    /// from a checkpoint continues both bit for bit.
    func testRoutesSplitParametersByRoleAndResumeBitIdentically() throws {
        let registry = TestSupport.builtinRegistry()
        let continuous = try Trainer(config: routed(epochs: 2), registry: registry)
        XCTAssertEqual(continuous.optimizers.map(\.groupName), ["default", "route.matrix"])
        XCTAssertEqual(continuous.optimizers.map(\.strategy.id), ["gradus.adamw", "gradus.muon"])
        XCTAssertEqual(continuous.optimizers[1].parameters.map(\.name), ["layers.0.weight"])
        XCTAssertTrue(continuous.optimizers[1].parameters.allSatisfy { $0.role == .matrix })
        XCTAssertEqual(continuous.optimizerSummary, "gradus.adamw + gradus.muon (route.matrix)")
        try continuous.run()

        let path = try TestSupport.temporaryDirectory() + "/routed.safetensors"
        let first = try Trainer(config: routed(epochs: 1), registry: registry)
        first.checkpoint = try CheckpointDestination(path)
        try first.run()
        let saved = try Checkpoint(contentsOf: path)
        XCTAssertEqual(saved.groupOptimizers, ["default": "gradus.adamw", "route.matrix": "gradus.muon"])
        XCTAssertNotNil(saved.optimizerState["optimizer/layers.0.weight/momentum_buffer"])
        XCTAssertNotNil(saved.optimizerState["optimizer/layers.2.weight/exp_avg"])
        var cfg = saved.config
        cfg.epochs = 2
        XCTAssertEqual(cfg.routes.map(\.optimizer), ["muon"], "routes are part of the saved configuration")
        let resumed = try Trainer(config: cfg, registry: registry)
        try saved.restore(into: resumed)
        try resumed.run()
        for (a, b) in zip(continuous.model.parameters, resumed.model.parameters) {
            XCTAssertTrue(a.value.bitwiseEqual(b.value), "\(a.name) differs after resume")
        }

        var other = routed(epochs: 2)
        other.routes = [("matrix", "lion", [])]
        XCTAssertThrowsError(try saved.restore(into: Trainer(config: other, registry: registry))) {
            XCTAssertEqual("\($0)", "checkpoint's parameter group 'route.matrix' was stepped by gradus.muon, this run uses gradus.lion")
        }
    }

    func testYAMLAndDottedRoutesGiveTheSameConfiguration() throws {
        var fromYAML = TrainConfig(), fromSet = TrainConfig()
        try TrainConfigParsing.apply(try TrainConfigParsing.flatten(yaml: "optimizer: {id: adamw, lr: 0.003}\nroute: {matrix: {id: muon, lr: 0.02}}\n", source: "t"),
                                     to: &fromYAML)
        try TrainConfigParsing.apply([("optimizer", "adamw"), ("optimizer.lr", "0.003"), ("route.matrix", "muon"), ("route.matrix.lr", "0.02")],
                                     to: &fromSet)
        XCTAssertEqual(TrainConfigParsing.pairs(fromYAML).map { "\($0)=\($1)" }, TrainConfigParsing.pairs(fromSet).map { "\($0)=\($1)" })
        XCTAssertEqual(fromSet.routes.count, 1)
        XCTAssertEqual(fromSet.routes[0].settings.map { "\($0)=\($1)" }, ["lr=0.02"])
    }

    /// torch.nn.utils.clip_grad_norm_ on the same gradients (Fixtures/clip_grad_norm.json).
    func testClippingMatchesTorch() throws {
        let root = try XCTUnwrap(TestSupport.fixture("clip_grad_norm") as? [String: Any])
        for c in try XCTUnwrap(root["cases"] as? [[String: Any]]) {
            let grads = (c["grads"] as! [[Double]]).map { $0.map(Float.init) }
            let params = grads.enumerated().map { i, g in HostParameter(name: "p\(i)", role: .vector, shape: [g.count]) }
            for (p, g) in zip(params, grads) { p.grad.values = g }
            let norm = Trainer.clipGradients(params, to: c["max_norm"] as! Double)
            XCTAssertEqual(norm, Float(c["total_norm"] as! Double), accuracy: 1e-5)
            for (p, want) in zip(params, c["clipped"] as! [[Double]]) { TestSupport.assertClose(p.grad.values, want, 1e-6, "max_norm \(c["max_norm"]!)") }
            if (c["max_norm"] as! Double) > Double(norm) { XCTAssertEqual(params.map(\.grad.values), grads, "no clipping leaves the bits alone") }
        }
    }

    /// batch_size=32 with accumulate_steps=2 steps like batch_size=64 (to rounding), and an epoch
    /// has the same number of steps.
    func testAccumulatedMicroBatchesEqualTheLargerBatch() throws {
        let registry = TestSupport.builtinRegistry()
        func trainer(_ batch: Int, _ accumulate: Int) throws -> Trainer {
            var c = TrainConfig()
            c.optimizerSettings = [("lr", "0.01")]
            c.hidden = [32]
            c.batchSize = batch
            c.accumulateSteps = accumulate
            c.clipGradNorm = 1
            return try Trainer(config: c, registry: registry)
        }
        let big = try trainer(64, 1), small = try trainer(32, 2)
        XCTAssertEqual(big.batchesPerEpoch, small.batchesPerEpoch)
        let rows = Array(0..<big.train.count)
        for k in 0..<5 {
            let batch = rows[(k * 64)..<((k + 1) * 64)]
            let a = try big.step(batch), b = try small.step(batch)
            XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(a)), "loss of step \(k + 1)")
        }
        for (p, q) in zip(big.model.parameters, small.model.parameters) {
            TestSupport.assertClose(q.value.scalars, p.value.scalars.map(Double.init), 1e-5, p.name)
        }
        XCTAssertFalse(zip(big.model.parameters, small.model.parameters).allSatisfy { $0.value.bitwiseEqual($1.value) },
                       "micro-batches sum in another order: equal to rounding, not to the bit")
    }
}
