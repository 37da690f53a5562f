import Foundation
import XCTest
@testable import GradusRuntime
import GradusTestSupport

/// `gradus compare`, `gradus report` and `--db` through the binary, as a researcher uses them.
final class CompareTests: XCTestCase {
    var gradus: String { TestSupport.buildDirectory + "/gradus" }
    var environment: [String: String] { BadInputTests.environment() }

    func database(_ dir: String) throws -> ExperimentDatabase { try ExperimentDatabase(path: dir + "/runs.sqlite") }

    func column(_ db: ExperimentDatabase, _ sql: String) throws -> [SQLiteValue] { try db.connection.query(sql).map { $0[0] } }

    /// The issue's own example: 6 runs recorded, the table printed from them, the report written;
    /// the same command again runs nothing; an interrupted run is redone and only it.
    func testAdamAgainstSGDOnDigitsFillsTheDatabaseAndResumes() throws {
        let dir = try TestSupport.temporaryDirectory() + "/cmp"
        let arguments = ["compare", "--optimizer", "adam", "--optimizer", "sgd:lr=0.05,momentum=0.9", "--task", "digits-mlp",
                         "--seeds", "3", "--set", "epochs=5", "--out", dir, "--jobs", "2"]
        let (status, out, err) = try TestSupport.run(gradus, arguments, environment: environment)
        XCTAssertEqual(status, 0, err)
        let db = try database(dir)
        let runs = try db.runs()
        XCTAssertEqual(runs.count, 6)
        XCTAssertTrue(runs.allSatisfy { $0.status == "finished" && $0.phase == "final" && $0.steps == 5 * 23 }, "\(runs)")
        XCTAssertEqual(runs.map(\.seed).sorted(), [0, 0, 1, 1, 2, 2], "run k of each optimizer uses seed k")
        XCTAssertEqual(Set(runs.map(\.optimizerID)), ["gradus.adam", "gradus.sgd"])
        // Every run stored its resolved configuration, its plugins and every hyperparameter, defaults included.
        let sgd = try XCTUnwrap(runs.first { $0.optimizer.hasPrefix("sgd") })
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(column(db, "SELECT config FROM runs WHERE id = \(sgd.id)").first?.string).utf8)) as? [String: String])
        XCTAssertEqual(config["epochs"], "5")
        XCTAssertEqual(config["seed"], "\(sgd.seed)")
        XCTAssertEqual(config["optimizer.momentum"], "0.9")
        let hps = try db.connection.query("SELECT name, value FROM hyperparameters WHERE run_id = \(sgd.id) AND component = 'optimizer'")
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: hps.map { ($0[0].string!, $0[1].string!) })["momentum"], "0.9")
        XCTAssertEqual(hps.count, 6, "every SGD hyperparameter: lr, momentum, dampening, weight_decay, nesterov, maximize")
        XCTAssertEqual(try column(db, "SELECT COUNT(*) FROM metrics WHERE name = 'test_accuracy'").first?.int, 30, "5 epochs × 6 runs")
        // The table's figures are the database's: mean ± sample sd of the last epoch's test accuracy.
        for label in ["adam", "sgd:lr=0.05,momentum=0.9"] {
            let finals = try runs.filter { $0.optimizer == label }.map { try XCTUnwrap(db.series(run: $0.id, "test_accuracy").last?.value) }
            let text = String(format: "%.4f ± %.4f", Statistics.mean(finals)!, Statistics.standardDeviation(finals)!)
            XCTAssertTrue(out.split(separator: "\n").contains { $0.hasPrefix(label + " ") && $0.contains(text) }, "\(label) \(text) missing from:\n\(out)")
        }
        XCTAssertTrue(out.contains("digits-mlp — test_accuracy, 3 seeds"), out)
        XCTAssertTrue(out.contains("p="), "the significance column:\n\(out)")
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<svg class=\"chart\"").count - 1, 3, "loss, accuracy and step-time charts")
        XCTAssertFalse(html.contains("<script") || html.contains("src=") || html.contains("href=") || html.contains("@import"), "self-contained")

        // Again: nothing runs (start times unchanged), the same table.
        let started = try column(db, "SELECT started_at FROM runs ORDER BY id")
        let (again, out2, err2) = try TestSupport.run(gradus, arguments, environment: environment)
        XCTAssertEqual(again, 0, err2)
        XCTAssertEqual(try column(db, "SELECT started_at FROM runs ORDER BY id"), started)
        XCTAssertEqual(out2, out)

        // A run killed mid-way (left running with part of its rows) is redone, and only it.
        try db.connection.execute("UPDATE runs SET status = 'running', steps = NULL WHERE id = 2; DELETE FROM metrics WHERE run_id = 2 AND epoch > 2")
        let (resumed, out3, err3) = try TestSupport.run(gradus, arguments, environment: environment)
        XCTAssertEqual(resumed, 0, err3)
        let after = try column(db, "SELECT started_at FROM runs ORDER BY id")
        XCTAssertEqual(after.enumerated().filter { $0.offset != 1 }.map(\.element), started.enumerated().filter { $0.offset != 1 }.map(\.element))
        XCTAssertEqual(try db.runs()[1].status, "finished")
        XCTAssertEqual(try db.series(run: 2, "test_accuracy").count, 5)
        // The redone run is deterministic: the same figures (step times aside).
        func figures(_ table: String) -> [[Substring]] {
            table.split(separator: "\n").map { $0.split(separator: "  ", omittingEmptySubsequences: true).prefix(3).map { $0 } }
        }
        XCTAssertEqual(figures(out3), figures(out))
    }

    /// A plugin that crashes or hangs fails its own runs, with the reason, and the rest finish.
    func testACrashingAndAHangingPluginFailOnlyTheirOwnRuns() throws {
        let crash = try FaultTests.faultyPlugin("acme.crash", at: 3, fault: "abort();")
        let hang = try FaultTests.faultyPlugin("acme.hang", at: 2, fault: "for (volatile int spin = 1; spin;) {}")
        let dir = try TestSupport.temporaryDirectory() + "/cmp"
        let (status, out, err) = try TestSupport.run(gradus, ["compare", "--plugin", crash, "--plugin", hang, "--optimizer", "acme.crash",
                                                               "--optimizer", "adam", "--optimizer", "acme.hang", "--task", "digits-mlp",
                                                               "--seeds", "2", "--set", "epochs=1", "--timeout", "5", "--out", dir],
                                                      environment: environment)
        XCTAssertEqual(status, 0, err)
        let runs = try database(dir).runs()
        XCTAssertEqual(runs.count, 6)
        for run in runs {
            switch run.optimizer {
            case "acme.crash":
                XCTAssertEqual(run.status, "failed")
                XCTAssertTrue(run.failure?.hasPrefix("crashed: SIGABRT — fatal: SIGABRT (abort) in plugin acme.crash, call step") ?? false, run.failure ?? "")
            case "acme.hang":
                XCTAssertEqual(run.status, "failed")
                XCTAssertEqual(run.failure, "timed out after 5 s (killed)")
            default:
                XCTAssertEqual(run.status, "finished", run.failure ?? "")
            }
        }
        XCTAssertTrue(out.contains("failed: acme.crash, seed 1: crashed: SIGABRT"), out)
        XCTAssertTrue(out.split(separator: "\n").contains { $0.hasPrefix("adam ") && $0.contains("±") }, out)
    }

    /// With a sweep, each optimizer is tuned on a validation split carved from the training data
    /// (the tuning runs never see the test split), and its seeds run at its best value.
    func testASweepTunesOnValidationAndRunsTheSeedsAtTheBest() throws {
        let dir = try TestSupport.temporaryDirectory() + "/cmp"
        let (status, out, err) = try TestSupport.run(gradus, ["compare", "--optimizer", "adam", "--optimizer", "sgd:momentum=0.9", "--task", "digits-mlp",
                                                               "--task", "quadratic", "--seeds", "2", "--set", "epochs=2", "--set", "steps=40",
                                                               "--sweep", "lr=1e-3..1e-1:3", "--out", dir], environment: environment)
        XCTAssertEqual(status, 0, err)
        let db = try database(dir)
        let runs = try db.runs()
        XCTAssertEqual(runs.filter { $0.phase == "tune" }.count, 12, "3 points × 2 optimizers × 2 tasks")
        XCTAssertEqual(runs.filter { $0.phase == "final" }.count, 2 * 2 + 2, "2 seeds per optimizer on digits, one trace each")
        for run in runs where run.phase == "tune" && run.task == "digits-mlp" {
            XCTAssertEqual(try db.series(run: run.id, "val_accuracy").count, 2)
            XCTAssertTrue(try db.series(run: run.id, "test_accuracy").isEmpty, "tuning runs never evaluate on the test split")
        }
        // lr is LOG_SCALE in both schemas: the grid is 1e-3, 1e-2, 1e-1.
        XCTAssertEqual(Set(runs.compactMap(\.sweep)), ["{\"lr\": \"0.001\"}", "{\"lr\": \"0.01\"}", "{\"lr\": \"0.1\"}"])
        for task in ["digits-mlp", "quadratic"] {
            for optimizer in ["adam", "sgd:momentum=0.9"] {
                let tune = runs.filter { $0.task == task && $0.optimizer == optimizer && $0.phase == "tune" }
                let metric = task == "quadratic" ? "f" : "val_accuracy"
                let scored = try tune.map { ($0.sweep!, try XCTUnwrap(db.series(run: $0.id, metric).last?.value)) }
                let best = task == "quadratic" ? scored.min { $0.1 < $1.1 }! : scored.max { $0.1 < $1.1 }!
                let finals = runs.filter { $0.task == task && $0.optimizer == optimizer && $0.phase == "final" }
                XCTAssertFalse(finals.isEmpty)
                XCTAssertTrue(finals.allSatisfy { $0.sweep == best.0 }, "\(task) \(optimizer): finals at \(finals.map(\.sweep)), best \(best)")
            }
        }
        XCTAssertTrue(out.contains("quadratic — f, 1 run each"), out)

        // An optimizer whose every tuning run diverges is not compared at values nobody chose,
        // not even through an untuned run of the same arguments made earlier in the folder.
        let diverging = try TestSupport.temporaryDirectory() + "/cmp"
        let (plain, _, plainErr) = try TestSupport.run(gradus, ["compare", "--optimizer", "sgd", "--task", "rosenbrock", "--set", "steps=20", "--out", diverging],
                                                       environment: environment)
        XCTAssertEqual(plain, 0, plainErr)
        let (again, table, err2) = try TestSupport.run(gradus, ["compare", "--optimizer", "sgd", "--task", "rosenbrock", "--sweep", "lr=10..100:2",
                                                                 "--set", "steps=20", "--out", diverging], environment: environment)
        XCTAssertEqual(again, 0, err2)
        XCTAssertTrue(table.contains("failed: sgd, seed 0: no tuning run of sgd on rosenbrock finished with a finite score"), table)
        XCTAssertEqual(try database(diverging).runs().filter { $0.phase == "tune" }.map(\.status), ["failed", "failed"])
        XCTAssertEqual(try database(diverging).runs().filter { $0.phase == "final" }.map(\.status), ["finished", "failed"], "the untuned run stays itself")
        let (plainAgain, plainTable, _) = try TestSupport.run(gradus, ["compare", "--optimizer", "sgd", "--task", "rosenbrock", "--set", "steps=20", "--out", diverging],
                                                              environment: environment)
        XCTAssertEqual(plainAgain, 0)
        XCTAssertFalse(plainTable.contains("failed: "), "the plain comparison still finds its own run:\n\(plainTable)")
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("Tuning: final val accuracy against lr"))
        XCTAssertTrue(html.contains("Trajectories on quadratic"))
    }

    /// The report opens in a real browser without console errors, with every chart drawn.
    func testTheReportRendersInChromium() throws {
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            XCTFail("chromium is not installed: bash .ci/setup installs it (Debian's chromium package)")
            return
        }
        let dir = try TestSupport.temporaryDirectory() + "/cmp"
        let (status, _, err) = try TestSupport.run(gradus, ["compare", "--optimizer", "adam", "--optimizer", "sgd:lr=0.05,momentum=0.9",
                                                             "--task", "digits-mlp", "--task", "beale", "--seeds", "2", "--set", "epochs=2",
                                                             "--set", "steps=60", "--target", "test_accuracy=0.9", "--target", "f=0.5", "--out", dir],
                                                    environment: environment)
        XCTAssertEqual(status, 0, err)
        var env = environment
        env["HOME"] = try TestSupport.temporaryDirectory()
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr", "--v=0",
                     "--user-data-dir=\(try TestSupport.temporaryDirectory())"]
        let (shown, dom, log) = try TestSupport.run(chromium, flags + ["--dump-dom", "file://\(dir)/report.html"], environment: env, timeout: 120)
        XCTAssertEqual(shown, 0, log)
        XCTAssertFalse(log.split(separator: "\n").contains { $0.contains("CONSOLE") }, "console messages:\n\(log)")
        // digits-mlp: loss, accuracy, step time; beale: f, trajectories; across tasks: the performance profile.
        XCTAssertEqual(dom.components(separatedBy: "<svg class=\"chart\"").count - 1, 6, dom.prefix(2000).description)
        XCTAssertTrue(dom.contains("Performance profile"))
        let png = try TestSupport.temporaryDirectory() + "/report.png"
        let (shot, _, shotLog) = try TestSupport.run(chromium, flags + ["--hide-scrollbars", "--window-size=1280,2400", "--screenshot=\(png)",
                                                                        "file://\(dir)/report.html"], environment: env, timeout: 120)
        XCTAssertEqual(shot, 0, shotLog)
        let image = try Data(contentsOf: URL(fileURLWithPath: png))
        XCTAssertEqual(Array(image.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
    }

    /// `train --db` and `trace --db` record single runs: configuration, plugins, every
    /// hyperparameter, status, each epoch's (step's) metrics; a failure is recorded with its reason.
    func testTrainAndTraceRecordSingleRuns() throws {
        let dir = try TestSupport.temporaryDirectory()
        let path = dir + "/runs.sqlite"
        let (status, out, err) = try TestSupport.run(gradus, ["train", "--set", "epochs=2", "--set", "optimizer.lr=0.002", "--db", path], environment: environment)
        XCTAssertEqual(status, 0, err)
        let db = try ExperimentDatabase(path: path)
        let run = try XCTUnwrap(try db.runs().first)
        XCTAssertEqual(run.status, "finished")
        XCTAssertEqual(run.phase, "single")
        XCTAssertEqual(run.steps, 46)
        // The printed figures, parsed by Swift (Foundation's JSON parser may round the last digit).
        let printed = out.split(separator: "\n").prefix(2).compactMap { line in
            line.components(separatedBy: "\"test_accuracy\": ").last?.split(separator: ",").first.flatMap { Double($0) }
        }
        XCTAssertEqual(try db.series(run: run.id, "test_accuracy").map(\.value), printed)
        XCTAssertEqual(try db.series(run: run.id, "test_accuracy").map(\.step), [23, 46])
        let adam = try TestSupport.builtinRegistry().require("adam", kind: .optimizer)
        let hps = try db.connection.query("SELECT name, value FROM hyperparameters WHERE run_id = \(run.id)")
        XCTAssertEqual(Set(hps.map { $0[0].string! }), Set(adam.hyperparameters.map(\.id)))
        XCTAssertEqual(hps.first { $0[0].string == "lr" }?[1].string, "0.002")

        let (diverged, _, _) = try TestSupport.run(gradus, ["train", "--set", "epochs=1", "--set", "optimizer=sgd", "--set", "optimizer.lr=1e30", "--db", path],
                                                   environment: environment)
        XCTAssertEqual(diverged, 1)
        let failed = try XCTUnwrap(try db.runs().last)
        XCTAssertEqual(failed.status, "failed")
        XCTAssertTrue(failed.failure?.contains("diverged") ?? false, failed.failure ?? "")

        // A run that already ended is not started again, nor marked failed by the attempt.
        let (again, _, againErr) = try TestSupport.run(gradus, ["train", "--set", "epochs=1", "--db", path, "--run-id", "\(run.id)"], environment: environment)
        XCTAssertEqual(again, 1)
        XCTAssertTrue(againErr.contains("run \(run.id) is already finished"), againErr)
        XCTAssertEqual(try db.runs().first?.status, "finished")

        // A diverging trace keeps the rows of the steps before it stopped.
        let (divergedTrace, _, _) = try TestSupport.run(gradus, ["trace", "--optimizer", "sgd", "--function", "quadratic", "--steps", "3000", "--set", "lr=0.9",
                                                                 "--db", path], environment: environment)
        XCTAssertEqual(divergedTrace, 1)
        let stopped = try XCTUnwrap(try db.runs().last)
        XCTAssertEqual(stopped.status, "failed")
        XCTAssertGreaterThan(try db.series(run: stopped.id, "f").count, 10)

        // Two processes creating one new database at once both record their run.
        let fresh = dir + "/fresh.sqlite"
        let twins = try (0..<2).map { _ -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: gradus)
            p.arguments = ["train", "--set", "epochs=1", "--db", fresh]
            p.environment = environment
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in twins { p.waitUntilExit(); XCTAssertEqual(p.terminationStatus, 0) }
        XCTAssertEqual(try ExperimentDatabase(path: fresh).runs().map(\.status), ["finished", "finished"])

        let (traced, _, traceErr) = try TestSupport.run(gradus, ["trace", "--optimizer", "sgd", "--function", "quadratic", "--steps", "10", "--set", "lr=0.1", "--db", path],
                                                        environment: environment)
        XCTAssertEqual(traced, 0, traceErr)
        let trace = try XCTUnwrap(try db.runs().last)
        XCTAssertEqual(trace.taskKind, "trace")
        XCTAssertEqual(try db.series(run: trace.id, "f").count, 11, "steps 0 to 10")
        // SGD on ½(x² + 10y²) with lr 0.1 from (1, 1): x ← 0.9x, y ← 0·y.
        XCTAssertEqual(try db.series(run: trace.id, "x[0]").last!.value, Foundation.pow(0.9, 10), accuracy: 1e-6)
        XCTAssertEqual(try db.series(run: trace.id, "x[1]").last!.value, 0, accuracy: 1e-6)
    }

    /// TensorBoard's own reader (the `tensorboard` package) reads what `--tensorboard` writes:
    /// the same scalars at the same steps as the JSON lines and the database.
    func testTensorBoardReadsTheEventFiles() throws {
        let tools = ProcessInfo.processInfo.environment["GRADUS_TOOLS_DIR"] ?? (NSHomeDirectory() + "/.cache/gradus-tools")
        let python = ProcessInfo.processInfo.environment["GRADUS_TENSORBOARD_PYTHON"] ?? tools + "/tensorboard/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            XCTFail("\(python) is missing: bash .ci/setup installs TensorBoard's reader into a virtualenv there")
            return
        }
        let script = TestSupport.repositoryRoot + "/Tests/tools/read_tensorboard.py"
        let dir = try TestSupport.temporaryDirectory()
        let (status, out, err) = try TestSupport.run(gradus, ["train", "--set", "epochs=3", "--tensorboard", dir + "/tb"], environment: environment)
        XCTAssertEqual(status, 0, err)
        let (read, json, readErr) = try TestSupport.run(python, [script, dir + "/tb"], environment: environment)
        XCTAssertEqual(read, 0, readErr)
        let scalars = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: [[Double]]], json)
        XCTAssertEqual(Set(scalars.keys), ["train_loss", "test_loss", "test_accuracy", "train_seconds", "seconds"])
        XCTAssertEqual(scalars["test_accuracy"]?.map { $0[0] }, [23, 46, 69])
        let printed = out.split(separator: "\n").prefix(3).compactMap { line in
            line.components(separatedBy: "\"test_accuracy\": ").last?.split(separator: ",").first.flatMap { Double($0) }
        }
        XCTAssertEqual(scalars["test_accuracy"]?.map { Float($0[1]) }, printed.map(Float.init), "float32 summaries of the printed values")

        // compare: one subfolder per run.
        let (compared, _, compareErr) = try TestSupport.run(gradus, ["compare", "--optimizer", "adam", "--optimizer", "sgd:momentum=0.9", "--task", "digits-mlp",
                                                                      "--task", "quadratic", "--seeds", "2", "--set", "epochs=1", "--set", "steps=5",
                                                                      "--out", dir + "/cmp", "--tensorboard", dir + "/cmp-tb"], environment: environment)
        XCTAssertEqual(compared, 0, compareErr)
        for run in ["digits-mlp/adam/final-seed0", "digits-mlp/adam/final-seed1", "digits-mlp/sgd_momentum=0.9/final-seed1", "quadratic/adam/final-seed0"] {
            let (ok, text, e) = try TestSupport.run(python, [script, dir + "/cmp-tb/" + run], environment: environment)
            XCTAssertEqual(ok, 0, e)
            let s = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [[Double]]], "\(run): \(text)")
            XCTAssertEqual(s[run.hasPrefix("quadratic") ? "f" : "test_accuracy"]?.count, run.hasPrefix("quadratic") ? 6 : 1, "\(run): \(text)")
        }
    }

    /// A comparison killed outright (SIGKILL, no chance to clean up) leaves a consistent database,
    /// its runs in flight die with it, and running it again finishes exactly what was left.
    func testAKilledComparisonLeavesAConsistentDatabaseAndContinues() throws {
        let dir = try TestSupport.temporaryDirectory() + "/cmp"
        let arguments = ["compare", "--optimizer", "adam", "--optimizer", "sgd:momentum=0.9", "--task", "digits-mlp", "--seeds", "3",
                         "--set", "epochs=100", "--out", dir, "--jobs", "2"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: gradus)
        p.arguments = arguments
        p.environment = environment
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Once runs are under way, a second comparison on the folder is refused.
        var started = false
        for _ in 0..<6000 where !started {
            started = (try? database(dir).runs().contains { $0.status == "running" }) ?? false
            if !started { usleep(20_000) }
        }
        let (second, _, secondErr) = try TestSupport.run(gradus, arguments, environment: environment)
        XCTAssertEqual(second, 1)
        XCTAssertEqual(secondErr, "gradus: error: --out \(dir): another gradus compare is using this folder (\(dir)/runs.sqlite.lock is locked); wait for it to end or choose another folder\n")
        // Wait until a run has finished and another is under way, then kill the comparison.
        let deadline = Date().addingTimeInterval(120)
        var statuses: [String] = [], running: [Int64] = []
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: dir + "/runs.sqlite"), let db = try? database(dir), let runs = try? db.runs() {
                statuses = runs.map(\.status)
                running = runs.filter { $0.status == "running" }.map(\.id)
                if statuses.contains("finished"), !running.isEmpty { break }
            }
            usleep(20_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertTrue(statuses.contains("finished") && statuses.contains("running"), "\(statuses)")
        // Its children got SIGTERM from the kernel and stop between batches.
        var orphans = 1
        for _ in 0..<500 where orphans > 0 {
            let (_, list, _) = try TestSupport.run("/usr/bin/pgrep", ["-f", dir + "/runs.sqlite"])
            orphans = list.split(separator: "\n").count
            if orphans > 0 { usleep(20_000) }
        }
        XCTAssertEqual(orphans, 0, "no run outlives the comparison")
        let db = try database(dir)
        XCTAssertEqual(try column(db, "PRAGMA integrity_check").first?.string, "ok")
        let before = try db.runs()
        let finished = Set(before.filter { $0.status == "finished" }.map(\.id))
        XCTAssertFalse(finished.isEmpty)
        XCTAssertFalse(before.contains { $0.status == "failed" }, "a run stopped with the comparison is not a failure: \(before)")
        // A run under way at the kill stopped there (an orphan would have gone on to finish it).
        XCTAssertTrue(before.contains { running.contains($0.id) && $0.status == "running" }, "runs under way at the kill: \(running); now \(before)")
        let startTimes = try db.connection.query("SELECT id, started_at FROM runs WHERE status = 'finished'")

        let (status, _, err) = try TestSupport.run(gradus, arguments, environment: environment)
        XCTAssertEqual(status, 0, err)
        let after = try db.runs()
        XCTAssertEqual(after.count, 6)
        XCTAssertTrue(after.allSatisfy { $0.status == "finished" }, "\(after)")
        XCTAssertEqual(try db.connection.query("SELECT id, started_at FROM runs WHERE id IN (\(finished.map(String.init).joined(separator: ",")))"), startTimes,
                       "finished runs are not run again")
    }

    /// A tuning run's checkpoint evaluates on the test split with `gradus eval` (the run itself
    /// reported the validation split it held out, and never read the test split).
    func testEvalOfATuningCheckpointReportsTheTestSplit() throws {
        let dir = try TestSupport.temporaryDirectory()
        let (status, out, err) = try TestSupport.run(gradus, ["train", "--set", "epochs=2", "--set", "validation_fraction=0.5", "--checkpoint", dir + "/v.safetensors"],
                                                     environment: environment)
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("\"val_accuracy\"") && !out.contains("test_accuracy"), out)
        XCTAssertTrue(out.contains("validation accuracy: "), out)
        let (evaluated, line, evalErr) = try TestSupport.run(gradus, ["eval", dir + "/v.safetensors"], environment: environment)
        XCTAssertEqual(evaluated, 0, evalErr)
        let accuracy = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["test_accuracy"] as? Double)
        let correct = accuracy * 359  // the test split of digits has 359 rows; the validation split 719
        XCTAssertEqual(correct, correct.rounded(), accuracy: 1e-6, "a fraction of the 359 test rows: \(accuracy)")
    }
}
