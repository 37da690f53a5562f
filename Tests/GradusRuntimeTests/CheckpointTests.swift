import XCTest
@testable import GradusRuntime
import GradusCore
import GradusTestSupport

/// Checkpoints: resuming is bit-identical to never stopping; bad files are refused clearly.
final class CheckpointTests: XCTestCase {
    func config(_ optimizer: String, _ settings: [(String, String)], epochs: Int) -> TrainConfig {
        var c = TrainConfig()
        c.optimizer = optimizer
        c.optimizerSettings = settings
        c.epochs = epochs
        c.hidden = [32]
        return c
    }

    /// Plugins draw from host RNG streams (one per parameter group, one for the pruner); a resumed
    /// run must continue each stream where it stood, not restart it from the seed.
    func testRandomStreamsOfEveryGroupAndThePrunerAreRestored() throws {
        let registry = TestSupport.builtinRegistry()
        var c = config("adam", [("lr", "0.01")], epochs: 1)
        c.groupSettings = [("bias", "weight_decay", "0")]
        c.pruner = "magnitude"
        let trainer = try Trainer(config: c, registry: registry)
        try trainer.run()
        for (k, session) in trainer.optimizers.enumerated() { for _ in 0...k { _ = session.rng.stream.next() } }
        for _ in 0..<3 { _ = trainer.pruning!.rng.stream.next() }
        let path = try TestSupport.temporaryDirectory() + "/rng.safetensors"
        try Checkpoint(trainer).write(to: path)
        let resumed = try Trainer(config: c, registry: registry)
        XCTAssertNotEqual(resumed.optimizers.map(\.rng.stream.state.0), trainer.optimizers.map(\.rng.stream.state.0), "streams were advanced")
        try Checkpoint(contentsOf: path).restore(into: resumed)
        XCTAssertEqual(trainer.optimizers.count, 2)
        for (a, b) in zip(resumed.optimizers, trainer.optimizers) {
            XCTAssertTrue(a.rng.stream.state == b.rng.stream.state, "group \(a.groupName)")
        }
        XCTAssertTrue(resumed.pruning!.rng.stream.state == trainer.pruning!.rng.stream.state, "pruner stream")
    }

    func testResumingIsBitIdenticalToAContinuousRun() throws {
        let registry = TestSupport.builtinRegistry()
        for (opt, settings) in [("adam", [("lr", "0.003"), ("amsgrad", "true")]), ("sgd", [("lr", "0.05"), ("momentum", "0.9")])] {
            func config(_ o: String, _ s: [(String, String)], epochs: Int) -> TrainConfig {
                var c = self.config(o, s, epochs: epochs)
                c.pruner = "magnitude"          // masks are part of the saved state
                c.prunerSettings = [("sparsity", "0.6")]
                c.pruneEndEpoch = 3
                return c
            }
            let continuous = try Trainer(config: config(opt, settings, epochs: 4), registry: registry)
            try continuous.run()

            let path = try TestSupport.temporaryDirectory() + "/run.safetensors"
            let first = try Trainer(config: config(opt, settings, epochs: 2), registry: registry)
            first.checkpoint = try CheckpointDestination(path)
            try first.run()

            let saved = try Checkpoint(contentsOf: path)
            XCTAssertEqual(saved.epoch, 2)
            XCTAssertEqual(saved.masks.count, 1)
            var cfg = saved.config
            cfg.epochs = 4
            let resumed = try Trainer(config: cfg, registry: registry)
            try saved.restore(into: resumed)
            try resumed.run()

            XCTAssertEqual(resumed.optimizer.stepCount, continuous.optimizer.stepCount)
            for (a, b) in zip(continuous.model.parameters, resumed.model.parameters) {
                XCTAssertTrue(a.value.bitwiseEqual(b.value), "\(opt): \(a.name) differs after resume")
            }
            for (ra, rb) in zip(continuous.optimizer.state, resumed.optimizer.state) {
                for (x, y) in zip(ra, rb) { XCTAssertEqual(x.values.map(\.bitPattern), y.values.map(\.bitPattern)) }
            }
        }
    }

    func testCheckpointsAreReadableSafetensorsWithNamedState() throws {
        let trainer = try Trainer(config: config("adam", [], epochs: 1), registry: TestSupport.builtinRegistry())
        try trainer.run()
        let path = try TestSupport.temporaryDirectory() + "/c.safetensors"
        try Checkpoint(trainer).write(to: path)
        let contents = try SafeTensors.decode(Data(contentsOf: URL(fileURLWithPath: path)), source: path)
        let (tensors, meta) = (contents.tensors, contents.metadata)
        XCTAssertEqual(Set(tensors.keys.filter { !$0.hasPrefix("optimizer/") }), ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"])
        XCTAssertEqual(tensors["optimizer/layers.0.weight/exp_avg"]?.shape, [32, 64])
        // The step counter is an exact (F64) scalar slot.
        XCTAssertEqual(contents.doubles["optimizer/layers.2.bias/step"], SafeTensors.Doubles(shape: [], values: [Double(trainer.optimizer.stepCount)]))
        XCTAssertEqual(meta["optimizer.id"], "gradus.adam")
        XCTAssertEqual(meta["optimizer.version"], "1.1.0")
        XCTAssertEqual(meta["plugins"], "{\"gradus.adam\":\"1.1.0\"}")
    }

    func testTruncatedOrForeignFilesAreRefusedAndNothingIsDamaged() throws {
        let trainer = try Trainer(config: config("adam", [], epochs: 1), registry: TestSupport.builtinRegistry())
        let dir = try TestSupport.temporaryDirectory()
        let path = dir + "/c.safetensors"
        try Checkpoint(trainer).write(to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = dir + "/cut.safetensors"
        try bytes.prefix(bytes.count - 10).write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try Checkpoint(contentsOf: cut)) { XCTAssertTrue("\($0)".hasPrefix("\(cut): truncated (tensor '"), "\($0)") }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try Checkpoint(contentsOf: cut)) { XCTAssertEqual("\($0)", "\(cut): not a safetensors file (3 bytes, expected an 8-byte header length and a JSON header)") }
        let other = dir + "/other.safetensors"
        try SafeTensors.encode([("w", Tensor(shape: [1], scalars: [1]))], metadata: [:]).write(to: URL(fileURLWithPath: other))
        XCTAssertThrowsError(try Checkpoint(contentsOf: other)) {
            XCTAssertEqual("\($0)", "\(other): format 'none', expected 'gradus-checkpoint-1'")
        }
        // A failed write leaves the existing checkpoint intact and no temporary file behind.
        XCTAssertThrowsError(try writeAtomically(Data([0]), to: dir + "/missing/sub/c.safetensors"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), bytes)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["c.safetensors", "cut.safetensors", "other.safetensors"])
    }

    func testRestoringIntoAnotherModelOrOptimizerIsRefused() throws {
        let registry = TestSupport.builtinRegistry()
        let path = try TestSupport.temporaryDirectory() + "/c.safetensors"
        try Checkpoint(try Trainer(config: config("adam", [], epochs: 1), registry: registry)).write(to: path)
        let saved = try Checkpoint(contentsOf: path)
        XCTAssertThrowsError(try saved.restore(into: Trainer(config: config("sgd", [], epochs: 1), registry: registry))) {
            XCTAssertEqual("\($0)", "checkpoint was written by optimizer gradus.adam, this run uses gradus.sgd")
        }
        var wide = config("adam", [], epochs: 1)
        wide.hidden = [64]
        XCTAssertThrowsError(try saved.restore(into: Trainer(config: wide, registry: registry))) {
            XCTAssertEqual("\($0)", "checkpoint has layers.0.weight with shape [32, 64], the model has [64, 64]")
        }
    }
}
