import XCTest
import GradusCore
import GradusNN
@testable import GradusRuntime
import GradusTestSupport

/// The CNN with BatchNorm, parameter groups, schedules during training and mid-epoch resume.
final class TrainingFeatureTests: XCTestCase {
    let registry = TestSupport.builtinRegistry()

    func testLeNetWithBatchNormTrainsOnDigits() throws {
        var cfg = TrainConfig()
        try TrainConfigParsing.apply([("model.arch", "lenet"), ("model.channels", "8,16"), ("model.hidden", "32"),
                                      ("normalizer", "batchnorm"), ("optimizer.lr", "0.003"), ("epochs", "3")], to: &cfg)
        let trainer = try Trainer(config: cfg, registry: registry)
        XCTAssertEqual(trainer.model.parameters.map(\.name), [
            "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias",
            "layers.5.weight", "layers.5.bias", "layers.6.weight", "layers.6.bias",
            "layers.10.weight", "layers.10.bias", "layers.12.weight", "layers.12.bias"])
        XCTAssertEqual(trainer.model.buffers.map(\.name), ["layers.2.running_mean", "layers.2.running_var", "layers.6.running_mean", "layers.6.running_var"])
        XCTAssertEqual(trainer.model.parameters.filter(\.prunable).map(\.name), ["layers.1.weight", "layers.5.weight", "layers.10.weight"])
        let last = try XCTUnwrap(trainer.run())
        XCTAssertGreaterThanOrEqual(last.testAccuracy, 0.9, "LeNet+BatchNorm after 3 epochs")
        let runningVar = trainer.model.buffers[1].value.scalars
        XCTAssertTrue(runningVar.allSatisfy { $0 > 0 } && runningVar.contains { abs($0 - 1) > 1e-3 }, "running statistics moved: \(runningVar)")
        // Eval mode uses the running statistics: the same batch gives other outputs than train mode.
        let (x, _) = trainer.test.batch(Array(0..<8)[...])
        let evalOut = try GradMode.with(recording: false) { try trainer.model.forward(Variable(x), ParameterBindings(trainer.model.parameters), mode: .eval) }
        let b = ParameterBindings(trainer.model.parameters)
        b.updatesStatistics = false
        let trainOut = try GradMode.with(recording: false) { try trainer.model.forward(Variable(x), b, mode: .train) }
        XCTAssertFalse(evalOut.value.bitwiseEqual(trainOut.value))
        XCTAssertEqual(trainer.model.buffers[1].value.scalars, runningVar, "updatesStatistics = false leaves the buffers alone")
    }

    func testParameterGroupsByRoleGetTheirOwnHyperparameters() throws {
        var cfg = TrainConfig()
        try TrainConfigParsing.apply([("optimizer", "sgd"), ("optimizer.lr", "0.1"), ("optimizer.weight_decay", "0.01"),
                                      ("normalizer", "layernorm"), ("param_groups.bias.weight_decay", "0"),
                                      ("param_groups.norm.weight_decay", "0"), ("param_groups.norm.lr", "0.05"), ("epochs", "1")], to: &cfg)
        let trainer = try Trainer(config: cfg, registry: registry)
        XCTAssertEqual(trainer.optimizers.map(\.groupName), ["default", "bias", "norm"])
        XCTAssertEqual(trainer.optimizers.map { $0.parameters.map(\.name) }, [["layers.0.weight", "layers.3.weight"],
                                                                               ["layers.0.bias", "layers.3.bias"],
                                                                               ["layers.1.weight", "layers.1.bias"]])
        XCTAssertEqual(trainer.optimizers.map { $0.hyperparameters["weight_decay"]?.numeric }, [0.01, 0, 0])
        XCTAssertEqual(trainer.optimizers.map { $0.hyperparameters["lr"]?.numeric }, [0.1, 0.1, 0.05])
        // A bias takes a plain SGD step: p ← p − lr·g, no decay.
        let bias = trainer.model.parameters[1], before = bias.value.scalars
        let rows = Array(0..<64)[...]
        let (x, y) = trainer.train.batch(rows)
        let bindings = ParameterBindings(trainer.model.parameters)
        let loss = crossEntropy(logits: try trainer.model.forward(Variable(x), bindings, mode: .train), labels: y)
        let g = Autodiff.gradients(of: loss, wrt: bindings.variables)[1].value.scalars
        _ = try trainer.step(rows)
        XCTAssertEqual(bias.value.scalars, zip(before, g).map { $0 - Float(0.1) * $1 })
        try trainer.run()
        XCTAssertEqual(trainer.optimizers.map(\.stepCount), [24, 24, 24].map(Int64.init), "every group steps every batch")

        for (key, message) in [("param_groups.biases.lr", "param_groups.biases: unknown selector (expected one of bias, embedding, head, matrix, norm, norm_bias, norm_gain, vector)"),
                               ("param_groups.bias.momentum_x", "param_groups.bias.momentum_x: gradus.sgd has no hyperparameter 'momentum_x'")] {
            var bad = TrainConfig()
            try TrainConfigParsing.apply([("optimizer", "sgd"), (key, "0")], to: &bad)
            XCTAssertThrowsError(try Trainer(config: bad, registry: registry)) { XCTAssertEqual("\($0)", message) }
        }
    }

    /// Every role selector forms its group from exactly the parameters of that role.
    func testEveryRoleSelectorGroupsItsParameters() throws {
        let cases: [(selector: String, arch: [(String, String)], expected: [String])] = [
            ("bias", [], ["layers.0.bias", "layers.3.bias"]),
            ("norm", [], ["layers.1.weight", "layers.1.bias"]),
            ("norm_gain", [], ["layers.1.weight"]),
            ("norm_bias", [], ["layers.1.bias"]),
            ("matrix", [], ["layers.0.weight"]),
            ("head", [], ["layers.3.weight"]),
            ("matrix", [("model.arch", "lenet")], ["layers.1.weight", "layers.5.weight", "layers.10.weight"]),
        ]
        for (selector, arch, expected) in cases {
            var cfg = TrainConfig()
            try TrainConfigParsing.apply([("optimizer", "sgd"), ("normalizer", "layernorm"), ("epochs", "1"),
                                          ("param_groups.\(selector).lr", "0.5")] + arch, to: &cfg)
            let trainer = try Trainer(config: cfg, registry: registry)
            XCTAssertEqual(trainer.optimizers.map(\.groupName), ["default", selector], selector)
            XCTAssertEqual(trainer.optimizers.last?.parameters.map(\.name), expected, "\(selector) \(arch)")
            XCTAssertEqual(trainer.optimizers.last?.hyperparameters["lr"]?.numeric, 0.5)
            XCTAssertFalse(trainer.optimizers[0].parameters.contains { expected.contains($0.name) }, selector)
        }
    }

    /// normalizer_form=auto runs the kernel form unless the optimizer needs Hessian-vector products.
    func testAutoNormalizerFormPicksTheKernelUnlessSecondOrderIsNeeded() throws {
        for (form, kernel) in [("auto", true), ("kernel", true), ("graph", false)] {
            var cfg = TrainConfig()
            try TrainConfigParsing.apply([("normalizer", "batchnorm"), ("normalizer_form", form), ("epochs", "1")], to: &cfg)
            let layers = try Trainer(config: cfg, registry: registry).model.layers.compactMap { $0 as? PluginNormalization }
            XCTAssertFalse(layers.isEmpty)
            XCTAssertTrue(layers.allSatisfy { $0.firstOrderOnly == kernel }, "normalizer_form=\(form)")
        }
    }

    func testSchedulesDriveHyperparametersDuringTraining() throws {
        var cfg = TrainConfig()
        try TrainConfigParsing.apply([("optimizer.lr", "0.01"), ("schedule.lr", "step"), ("schedule.lr.step_size", "10"),
                                      ("schedule.lr.gamma", "0.5"), ("epochs", "2")], to: &cfg)
        let trainer = try Trainer(config: cfg, registry: registry)
        var seen: [Double] = []
        trainer.onBatch = { _, _, _, _ in seen.append(trainer.optimizer.hyperparameters["lr"]!.numeric!) }
        try trainer.run()
        XCTAssertEqual(seen.count, 46)
        XCTAssertEqual(seen, (0..<46).map { 0.01 * pow(0.5, Double($0 / 10)) })
        // The schedule round-trips through the configuration a checkpoint stores.
        var back = TrainConfig()
        try TrainConfigParsing.apply(TrainConfigParsing.pairs(cfg), to: &back)
        XCTAssertEqual(back.schedules.map(\.function), ["step"])
        XCTAssertEqual(back.schedules[0].arguments.map { "\($0.0)=\($0.1)" }, ["step_size=10", "gamma=0.5"])

        var bad = TrainConfig()
        try TrainConfigParsing.apply([("schedule.beta2", "step"), ("schedule.beta2.step_size", "10"), ("schedule.beta2.gamma", "0.5")], to: &bad)
        XCTAssertThrowsError(try Trainer(config: bad, registry: registry)) { XCTAssertEqual("\($0)", "gradus.adam: 'beta2' is not schedulable") }
    }

    /// A class that only the test split has still gets an output (the model covers both splits).
    func testAClassMissingFromTheTrainingSplitStillHasAnOutput() throws {
        let train = try Dataset(name: "train", features: Tensor(shape: [4, 2], scalars: [0, 1, 1, 0, 1, 1, 0, 0]), labels: [0, 1, 2, 0])
        let test = try Dataset(name: "test", features: Tensor(shape: [2, 2], scalars: [1, 0, 0, 1]), labels: [3, 1])
        var cfg = TrainConfig()
        cfg.epochs = 1
        cfg.hidden = [4]
        let trainer = try Trainer(config: cfg, train: train, test: test, registry: registry)
        XCTAssertEqual(trainer.model.parameters.last?.shape, [4])
        XCTAssertNotNil(try trainer.run())
    }

    struct Interrupted: Error {}

    /// A run stopped mid-epoch and resumed from its last step checkpoint ends bit-identical to
    /// one that never stopped: weights, normalizer buffers, every group's optimizer state and
    /// the metrics of the interrupted epoch. Dropout and BatchNorm make the state non-trivial.
    func testMidEpochResumeIsBitIdentical() throws {
        var cfg = TrainConfig()
        try TrainConfigParsing.apply([("model.hidden", "32"), ("normalizer", "batchnorm"), ("model.dropout", "0.2"),
                                      ("param_groups.norm.weight_decay", "0"), ("optimizer.weight_decay", "0.001"),
                                      ("schedule.lr", "exponential"), ("schedule.lr.gamma", "0.99"),
                                      ("epochs", "2"), ("checkpoint_every", "5")], to: &cfg)
        let continuous = try Trainer(config: cfg, registry: registry)
        var metrics: [EpochMetrics] = []
        try continuous.run { metrics.append($0) }

        let path = try TestSupport.temporaryDirectory() + "/mid.safetensors"
        let first = try Trainer(config: cfg, registry: registry)
        first.checkpoint = try CheckpointDestination(path)
        first.onBatch = { _, _, _, _ in if first.optimizer.stepCount == 33 { throw Interrupted() } }
        XCTAssertThrowsError(try first.run()) { XCTAssertTrue($0 is Interrupted) }

        let saved = try Checkpoint(contentsOf: path)
        XCTAssertEqual(saved.plugins, ["gradus.adam": "1.1.0", "gradus.batchnorm": "1.0.0", "gradus.exponential": "1.0.0"])
        XCTAssertEqual([saved.stepCount, Int64(saved.epoch), Int64(saved.batchesIntoEpoch)], [30, 1, 7], "last checkpoint: step 30 = epoch 2, batch 7")
        let resumed = try Trainer(config: saved.config, registry: registry)
        try saved.restore(into: resumed)
        var resumedMetrics: [EpochMetrics] = []
        try resumed.run { resumedMetrics.append($0) }

        XCTAssertEqual(resumedMetrics.map(\.epoch), [2])
        XCTAssertEqual(resumedMetrics[0].trainLoss, metrics[1].trainLoss, "epoch 2 train loss, exactly")
        XCTAssertEqual(resumedMetrics[0].testAccuracy, metrics[1].testAccuracy)
        for (a, b) in zip(continuous.model.parameters, resumed.model.parameters) {
            XCTAssertTrue(a.value.bitwiseEqual(b.value), "\(a.name) differs after resume")
        }
        for (a, b) in zip(continuous.model.buffers, resumed.model.buffers) {
            XCTAssertTrue(a.value.bitwiseEqual(b.value), "\(a.name) differs after resume")
        }
        for (sa, sb) in zip(continuous.optimizers, resumed.optimizers) {
            for (ra, rb) in zip(sa.state, sb.state) {
                for (x, y) in zip(ra, rb) { XCTAssertEqual(x.values.map(\.bitPattern), y.values.map(\.bitPattern), sa.groupName) }
            }
        }
    }
}
