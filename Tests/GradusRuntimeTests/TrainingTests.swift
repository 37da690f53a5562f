import XCTest
@testable import GradusRuntime
import GradusTestSupport

/// End-to-end training through the optimizer plugins, and the run configuration.
final class TrainingTests: XCTestCase {
    func testDefaultDigitsRunReachesTheQualityBar() throws {
        let trainer = try Trainer(config: TrainConfig(), registry: TestSupport.builtinRegistry())
        XCTAssertEqual(trainer.train.count + trainer.test.count, 1797)
        XCTAssertEqual(trainer.test.count, 359)
        XCTAssertEqual(trainer.model.parameters.map(\.name), ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"])
        var epochs: [EpochMetrics] = []
        let last = try XCTUnwrap(trainer.run { epochs.append($0) })
        XCTAssertEqual(epochs.count, 20)
        XCTAssertGreaterThanOrEqual(last.testAccuracy, 0.96, "MLP 64-128-10 + Adam on digits (PyTorch: 0.961 ± 0.003)")
        XCTAssertLessThan(epochs.last!.trainLoss, epochs.first!.trainLoss / 4)
        XCTAssertEqual(trainer.optimizer.stepCount, 20 * Int64((1438 + 63) / 64))
    }

    func testGradualMagnitudePruningTo80PercentKeepsAccuracy() throws {
        var cfg = TrainConfig()
        cfg.pruner = "magnitude"
        cfg.prunerSettings = [("sparsity", "0.8")]
        cfg.pruneEndEpoch = 10
        let trainer = try Trainer(config: cfg, registry: TestSupport.builtinRegistry())
        var sparsities: [Double] = []
        let last = try XCTUnwrap(trainer.run { sparsities.append($0.sparsity ?? -1) })
        XCTAssertEqual(sparsities, sparsities.sorted(), "sparsity never decreases")
        XCTAssertEqual(sparsities[9], 0.8, accuracy: 1e-3)
        XCTAssertEqual(sparsities[19], sparsities[9], "no pruning after prune_end_epoch")
        let pruning = try XCTUnwrap(trainer.pruning)
        XCTAssertEqual(pruning.targets.map(\.name), ["layers.0.weight"], "the head stays dense")
        for (t, m) in zip(pruning.targets, pruning.masks) {
            XCTAssertTrue(zip(t.value.values, m.values).allSatisfy { $1 != 0 || $0 == 0 }, "masked weights stay exactly zero")
        }
        XCTAssertGreaterThanOrEqual(last.testAccuracy, 0.94)
    }

    /// scope=global takes one threshold over every prunable tensor (the layers end up with
    /// different sparsities, the total on target); scope=layer prunes each tensor to the target.
    func testGlobalAndLayerScopePruningInTraining() throws {
        for scope in ["global", "layer"] {
            var cfg = TrainConfig()
            try TrainConfigParsing.apply([("model.hidden", "64,32"), ("pruner", "magnitude"), ("pruner.sparsity", "0.5"),
                                          ("pruner.scope", scope), ("prune_end_epoch", "1"), ("epochs", "1")], to: &cfg)
            let trainer = try Trainer(config: cfg, registry: TestSupport.builtinRegistry())
            try trainer.run()
            let pruning = try XCTUnwrap(trainer.pruning)
            XCTAssertEqual(pruning.targets.map(\.name), ["layers.0.weight", "layers.2.weight"])
            let zeros = pruning.masks.map { $0.values.filter { $0 == 0 }.count }, sizes = pruning.masks.map(\.count)
            XCTAssertEqual(zeros.reduce(0, +), (sizes.reduce(0, +)) / 2, scope)
            if scope == "layer" {
                XCTAssertEqual(zeros, sizes.map { $0 / 2 })
            } else {
                XCTAssertNotEqual(zeros, sizes.map { $0 / 2 }, "one global threshold leaves the layers at different sparsities")
            }
        }
    }

    /// normalize=standardize centres and scales every feature with the training split's
    /// statistics; normalize=none keeps the raw values (digits: pixels/16 in [0, 1]).
    func testNormalizeStandardizesOrKeepsRawFeatures() throws {
        func trainFeatures(_ normalize: String) throws -> (mean: [Float], std: [Float], min: Float) {
            var cfg = TrainConfig()
            try TrainConfigParsing.apply([("normalize", normalize), ("epochs", "1")], to: &cfg)
            let train = try Trainer(config: cfg, registry: TestSupport.builtinRegistry()).train
            let stats = train.columnStatistics()
            return (stats.mean, stats.std, train.features.scalars.min()!)
        }
        let standardized = try trainFeatures("standardize"), raw = try trainFeatures("none")
        XCTAssertTrue(standardized.mean.allSatisfy { abs($0) < 1e-4 })
        XCTAssertTrue(zip(standardized.std, raw.std).allSatisfy { s, r in r < 1e-6 ? s < 1e-6 : abs(s - 1) < 1e-3 })
        XCTAssertEqual(raw.min, 0)
        XCTAssertGreaterThan(raw.mean.max()!, 0.3)
    }

    func testSameSeedGivesTheSameBits() throws {
        var cfg = TrainConfig()
        cfg.epochs = 2
        cfg.optimizer = "sgd"
        cfg.optimizerSettings = [("lr", "0.1"), ("momentum", "0.9")]
        let a = try Trainer(config: cfg, registry: TestSupport.builtinRegistry())
        let b = try Trainer(config: cfg, registry: TestSupport.builtinRegistry())
        let ma = try XCTUnwrap(a.run()), mb = try XCTUnwrap(b.run())
        XCTAssertEqual(ma.trainLoss.bitPattern, mb.trainLoss.bitPattern)
        for (p, q) in zip(a.model.parameters, b.model.parameters) { XCTAssertTrue(p.value.bitwiseEqual(q.value), p.name) }
        XCTAssertGreaterThan(ma.testAccuracy, 0.9)
    }

    func testYAMLAndOverridesApplyInOrder() throws {
        let yaml = """
        dataset: digits
        model:
          hidden: [32, 16]
        optimizer:
          id: sgd
          lr: 0.05
          momentum: 0.9
        epochs: 3
        batch_size: 32
        """
        var cfg = TrainConfig()
        try TrainConfigParsing.apply([("optimizer.momentum", "0.5")], to: &cfg)   // set before the id: kept, then overridden by the file
        try TrainConfigParsing.apply(TrainConfigParsing.flatten(yaml: yaml, source: "run.yaml"), to: &cfg)
        try TrainConfigParsing.apply([("optimizer.lr", "0.01"), ("seed", "7")], to: &cfg)
        XCTAssertEqual(cfg.hidden, [32, 16])
        XCTAssertEqual(cfg.optimizer, "sgd")
        XCTAssertEqual(cfg.optimizerSettings.map { "\($0.0)=\($0.1)" }, ["momentum=0.9", "lr=0.01"])
        XCTAssertEqual(cfg.epochs, 3)
        XCTAssertEqual(cfg.batchSize, 32)
        XCTAssertEqual(cfg.seed, 7)
    }

    func testConfigurationErrorsNameKeyValueAndExpectation() throws {
        func message(_ pairs: [(String, String)]) -> String {
            var cfg = TrainConfig()
            do { try TrainConfigParsing.apply(pairs, to: &cfg); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message([("epoch", "3")]), "unknown configuration key 'epoch' (expected one of: \(TrainConfigParsing.keys.joined(separator: ", ")))")
        XCTAssertTrue(TrainConfigParsing.keys.contains("epochs"))
        XCTAssertEqual(message([("epochs", "0")]), "epochs=0: expected an integer >= 1")
        XCTAssertEqual(message([("batch_size", "many")]), "batch_size=many: expected an integer >= 1")
        XCTAssertEqual(message([("model.hidden", "128,-1")]), "model.hidden=128,-1: expected positive sizes, e.g. 128 or 256,128")
        XCTAssertEqual(message([("model.arch", "bert")]), "model.arch=bert: expected mlp, lenet, resnet or transformer")
        XCTAssertEqual(message([("model.dropout", "1")]), "model.dropout=1: expected a number in [0, 1)")
        XCTAssertEqual(message([("param_groups.bias", "0")]),
                       "param_groups.bias: expected param_groups.<role>.<hyperparameter> (e.g. param_groups.bias.weight_decay=0)")
        XCTAssertEqual(message([("schedule.lr.warmup_steps", "5")]),
                       "schedule.lr: arguments given but no function (set schedule.lr=FUNCTION)")
        XCTAssertEqual(message([("test_fraction", "1.5")]), "test_fraction=1.5: expected a number in (0, 1)")
        XCTAssertThrowsError(try TrainConfigParsing.flatten(yaml: "epochs: [3\n", source: "bad.yaml")) {
            XCTAssertTrue("\($0)".hasPrefix("bad.yaml: not valid YAML"), "\($0)")
        }
        var cfg = TrainConfig()
        cfg.optimizerSettings = [("lr", "-1")]
        XCTAssertThrowsError(try Trainer(config: cfg, registry: TestSupport.builtinRegistry())) {
            XCTAssertEqual("\($0)", "gradus.adam: lr=-1 is out of range (expected [0, inf])")
        }
    }

    func testCSVLoaderReadsAndRejectsClearly() throws {
        let dir = try TestSupport.temporaryDirectory()
        let good = dir + "/tiny.csv"
        try "a,b,label\n1,2,0\n3,4.5,1\n".write(toFile: good, atomically: true, encoding: .utf8)
        let d = try Dataset.csv(path: good)
        XCTAssertEqual(d.features.scalars, [1, 2, 3, 4.5])
        XCTAssertEqual(d.labels, [0, 1])
        XCTAssertEqual(d.classes, 2)
        let bad = dir + "/bad.csv"
        try "a,b,label\n1,2,0\n3,x,1\n".write(toFile: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Dataset.csv(path: bad)) { XCTAssertEqual("\($0)", "\(bad):3: column 'b' = 'x' is not a finite number") }
        try "a,b\n1,2\n".write(toFile: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Dataset.csv(path: bad)) { XCTAssertEqual("\($0)", "\(bad): no column 'label' in the header (columns: a, b)") }
        try "a,b,label\n1,2\n".write(toFile: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Dataset.csv(path: bad)) { XCTAssertEqual("\($0)", "\(bad):2: 2 columns, expected 3") }
    }

    func testDigitsDatasetIsComplete() throws {
        let d = try Dataset.digits()
        XCTAssertEqual(d.count, 1797)
        XCTAssertEqual(d.featureCount, 64)
        XCTAssertEqual(d.classes, 10)
        XCTAssertEqual(d.features.scalars.max(), 1)
        XCTAssertEqual(d.features.scalars.min(), 0)
        XCTAssertEqual(Dictionary(grouping: d.labels, by: { $0 }).mapValues(\.count)[0], 178)
    }
}
