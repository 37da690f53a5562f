import Foundation
import XCTest
@testable import GradusRuntime
import GradusTestSupport

/// The pieces of `gradus compare` that need no child process: the statistics against scipy, the
/// grammar of specs, sweeps and targets, and the experiment database's transactions.
final class ExperimentTests: XCTestCase {
    func testWelchAndIncompleteBetaMatchScipy() throws {
        let fixture = try XCTUnwrap(TestSupport.fixture("statistics/welch") as? [String: Any])
        let cases = try XCTUnwrap(fixture["welch"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 7)
        for c in cases {
            let a = try XCTUnwrap(c["a"] as? [Double]), b = try XCTUnwrap(c["b"] as? [Double])
            let w = try XCTUnwrap(Statistics.welch(a, b))
            XCTAssertEqual(w.t, try XCTUnwrap(c["t"] as? Double), accuracy: 1e-9 * max(1, abs(w.t)), "t for \(a) vs \(b)")
            XCTAssertEqual(w.df, try XCTUnwrap(c["df"] as? Double), accuracy: 1e-9 * w.df)
            let p = try XCTUnwrap(c["p"] as? Double)
            XCTAssertEqual(w.p, p, accuracy: 1e-10 + 1e-8 * p, "p for \(a) vs \(b)")
        }
        for c in try XCTUnwrap(fixture["betainc"] as? [[String: Any]]) {
            let (a, b, x) = (c["a"] as! Double, c["b"] as! Double, c["x"] as! Double)
            let expected = c["value"] as! Double
            XCTAssertEqual(Statistics.regularizedIncompleteBeta(x, a: a, b: b), expected, accuracy: 1e-12 + 1e-10 * expected, "I_\(x)(\(a), \(b))")
        }
        XCTAssertNil(Statistics.welch([1], [1, 2]), "one value has no variance")
        XCTAssertEqual(Statistics.welch([1, 1], [1, 1])?.p, 1)
        XCTAssertEqual(Statistics.welch([1, 1], [2, 2])?.p, 0)
        XCTAssertEqual(Statistics.standardDeviation([2, 4, 4, 4, 5, 5, 7, 9])!, 2.138089935299395, accuracy: 1e-15)
    }

    func testOptimizerSpecsSweepsAndTargets() throws {
        let sgd = try OptimizerSpec.parse("sgd:lr=0.05,momentum=0.9")
        XCTAssertEqual(sgd.id, "sgd")
        XCTAssertEqual(sgd.label, "sgd:lr=0.05,momentum=0.9")
        XCTAssertEqual(sgd.settings, [.init("lr", "0.05"), .init("momentum", "0.9")])
        XCTAssertEqual(try OptimizerSpec.parse("adamw:route.matrix=muon").settings.first?.isTrainingKey, true)
        for bad in ["", ":lr=1", "sgd:lr", "sgd:lr=1,lr=2", "sgd:=1", "sgd:lr=1,"] {
            XCTAssertThrowsError(try OptimizerSpec.parse(bad), bad)
        }

        let log = try SweepSpec.parse("lr=1e-4..1e-1:log:4")
        let points = try log.grid(logScaleByDefault: false, integer: false)
        XCTAssertEqual(points.count, 4)
        XCTAssertEqual(points.first, 1e-4, "end points exact")
        XCTAssertEqual(points.last, 1e-1)
        for (p, e) in zip(points, [1e-4, 1e-3, 1e-2, 1e-1]) { XCTAssertEqual(p, e, accuracy: e * 1e-14) }
        let byFlag = try SweepSpec.parse("lr=0.001..0.1:3")
        XCTAssertEqual(try byFlag.grid(logScaleByDefault: true, integer: false)[1], 0.01, accuracy: 1e-15, "LOG_SCALE spaces the grid geometrically")
        XCTAssertEqual(try byFlag.grid(logScaleByDefault: false, integer: false), [0.001, 0.0505, 0.1])
        XCTAssertEqual(try SweepSpec.parse("steps=1..3:linear:5").grid(logScaleByDefault: false, integer: true), [1, 2, 3], "integers rounded, repeats dropped")
        XCTAssertEqual(try SweepSpec.parse("momentum=0.8,0.9,0.99").grid(logScaleByDefault: true, integer: false), [0.8, 0.9, 0.99])
        XCTAssertThrowsError(try SweepSpec.parse("lr=-1..1:log:3").grid(logScaleByDefault: false, integer: false))
        for bad in ["lr", "lr=1..0.1:3", "lr=0.1..1:1", "lr=0.1..1:cubic:3", "lr=0.1..1:99999999999999999999", "lr=nan,1", "=0.1..1:3"] {
            XCTAssertThrowsError(try SweepSpec.parse(bad), bad)
        }

        let target = try TargetSpec.parse("test_accuracy=0.95")
        XCTAssertTrue(target.isMet(0.95) && !target.isMet(0.9499))
        let loss = try TargetSpec.parse("test_loss=0.2")
        XCTAssertTrue(loss.isMet(0.2) && !loss.isMet(0.21))
        XCTAssertThrowsError(try TargetSpec.parse("accuracy=0.9"))
        XCTAssertThrowsError(try TargetSpec.parse("f=inf"))
    }

    func testTheSpecFileSaysWhatTheFlagsSay() throws {
        let path = try TestSupport.temporaryDirectory() + "/spec.yaml"
        try """
            optimizers:
              - adam
              - sgd:lr=0.05,momentum=0.9
              - id: adamw
                label: adamw+muon
                lr: 0.003
                route: {matrix: {id: muon, lr: 0.02}}
            tasks: [digits-mlp, rosenbrock]
            seeds: 2
            set: {epochs: 3}
            sweeps: ["lr=1e-4..1e-1:log:8"]
            targets: test_accuracy=0.95
            budget: 4
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let spec = try ComparisonSpecFile(path: path)
        XCTAssertEqual(spec.optimizers.map(\.label), ["adam", "sgd:lr=0.05,momentum=0.9", "adamw+muon"])
        XCTAssertEqual(spec.optimizers[2].settings, [.init("lr", "0.003"), .init("route.matrix", "muon"), .init("route.matrix.lr", "0.02")])
        XCTAssertEqual(spec.tasks, ["digits-mlp", "rosenbrock"])
        XCTAssertEqual(spec.seeds, "2")
        XCTAssertEqual(spec.settings.map { "\($0.0)=\($0.1)" }, ["epochs=3"])
        XCTAssertEqual(spec.sweeps, ["lr=1e-4..1e-1:log:8"])
        XCTAssertEqual(spec.targets, ["test_accuracy=0.95"])
        XCTAssertEqual(spec.budget, "4")
        try "optimizers: [adam]\nbudget: 3\nepochs: 3\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ComparisonSpecFile(path: path)) { XCTAssertTrue("\($0)".contains("unknown key 'epochs'"), "\($0)") }
        try "optimizers:\n  - {lr: 0.1}\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ComparisonSpecFile(path: path)) { XCTAssertTrue("\($0)".contains("has no id"), "\($0)") }
    }

    /// A failed transaction leaves nothing behind; a run's metric rows are replaced when it is
    /// started again (an interrupted attempt), and a finished run cannot be restarted.
    func testTheDatabaseIsTransactional() throws {
        let path = try TestSupport.temporaryDirectory() + "/runs.sqlite"
        let db = try ExperimentDatabase(path: path)
        let run = ExperimentDatabase.PlannedRun(key: "k1", task: "digits-mlp", taskKind: "train", optimizer: "adam", phase: "final", seed: 3,
                                                sweep: nil, arguments: ["train", "--set", "seed=3"])
        let (id, status) = try db.plan(run)
        XCTAssertEqual(status, "pending")
        XCTAssertEqual(try db.plan(run).id, id, "the same key is the same run")
        try db.start(run: id, optimizerID: "gradus.adam", config: [("epochs", "2")], plugins: ["gradus.adam": "1.1.0"],
                     hyperparameters: [("optimizer", "lr", "0.001")], gitCommit: nil)
        try db.record(run: id, step: 23, epoch: 1, [("test_accuracy", 0.5), ("train_loss", .nan)])
        XCTAssertThrowsError(try db.connection.transaction {
            try db.connection.query("INSERT INTO metrics VALUES (?, 46, 2, 'test_accuracy', 0.9)", [.integer(id)])
            throw GradusError("killed mid-write")
        })
        XCTAssertEqual(try db.series(run: id, "test_accuracy").map(\.value), [0.5], "the rolled-back row is gone")
        XCTAssertTrue(try db.series(run: id, "train_loss")[0].value.isNaN, "NaN is stored as NULL and read back as NaN")
        try db.start(run: id, optimizerID: "gradus.adam", config: [], plugins: [:], hyperparameters: [], gitCommit: "abc")
        XCTAssertTrue(try db.series(run: id, "test_accuracy").isEmpty, "a restarted run starts without the old rows")
        try db.finish(run: id, wallSeconds: 1.5, steps: 46)
        XCTAssertThrowsError(try db.start(run: id, optimizerID: "x", config: [], plugins: [:], hyperparameters: [], gitCommit: nil))
        let stored = try XCTUnwrap(try db.runs().first)
        XCTAssertEqual(stored.status, "finished")
        XCTAssertEqual(stored.seed, 3)
        XCTAssertEqual(stored.steps, 46)
        XCTAssertEqual(try db.connection.query("PRAGMA integrity_check").first?.first?.string, "ok")
    }

    /// The TFRecord checksum on the standard check value, and the protobuf varints on edge values.
    func testEventFileEncodings() {
        XCTAssertEqual(TensorBoardWriter.crc32c(Array("123456789".utf8)), 0xE306_9283, "CRC-32C check value")
        XCTAssertEqual(TensorBoardWriter.crc32c([]), 0)
        XCTAssertEqual(Protobuf.varint(0), [0])
        XCTAssertEqual(Protobuf.varint(300), [0xAC, 0x02])
        XCTAssertEqual(Protobuf.varint(UInt64.max).count, 10)
        XCTAssertEqual(Protobuf.fixed32(2, Float(1).bitPattern), [0x15, 0x00, 0x00, 0x80, 0x3F])
    }

    /// Grids multiply; a budget draws that many of their points, the same for every optimizer.
    func testTuningGridsAndTheBudget() throws {
        var options = ComparisonOptions()
        options.sweeps = [try SweepSpec.parse("lr=1e-4..1e-1:4"), try SweepSpec.parse("momentum=0.8,0.9")]
        let schema = OptimizerSchema(id: "gradus.sgd", version: "1", hyperparameters: ["lr": ("f64", ["log_scale"]), "momentum": ("f64", [])], failure: nil)
        let full = try options.grid(for: schema)
        XCTAssertEqual(full.count, 8)
        XCTAssertEqual(full[0].map { "\($0.0)=\($0.1)" }, ["lr=0.0001", "momentum=0.8"])
        XCTAssertEqual(full[7].map { "\($0.0)=\($0.1)" }, ["lr=0.1", "momentum=0.9"])
        options.budget = 3
        let drawn = try options.grid(for: schema)
        XCTAssertEqual(drawn.count, 3)
        let text = { (g: [[(String, String)]]) in g.map { $0.map { "\($0.0)=\($0.1)" }.joined(separator: ",") } }
        XCTAssertTrue(Set(text(drawn)).isSubset(of: Set(text(full))))
        XCTAssertEqual(text(drawn), text(try options.grid(for: OptimizerSchema(id: "gradus.other", version: "1", hyperparameters: schema.hyperparameters, failure: nil))),
                       "the same points for every optimizer")
        options.budget = 100
        XCTAssertEqual(try options.grid(for: schema).count, 8, "a budget above the grid runs the grid")
        XCTAssertThrowsError(try options.grid(for: OptimizerSchema(id: "gradus.lion", version: "1", hyperparameters: ["lr": ("f64", [])], failure: nil))) {
            XCTAssertTrue("\($0)".contains("gradus.lion has no hyperparameter 'momentum'"), "\($0)")
        }
    }
}
