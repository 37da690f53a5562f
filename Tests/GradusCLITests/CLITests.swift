import XCTest
@testable import GradusRuntime
import GradusTestSupport

/// The `gradus` binary as a user runs it.
final class CLITests: XCTestCase {
    var gradus: String { TestSupport.buildDirectory + "/gradus" }

    /// The environment of a user with no plugin settings.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["GRADUS_PLUGIN_PATH"] = nil
        env["GRADUS_ALLOW_INSECURE_PLUGINS"] = nil
        return env.merging(extra) { $1 }
    }

    func testPluginsListShowsEveryBuiltinWithItsABIVersion() throws {
        let (status, out, err) = try TestSupport.run(gradus, ["plugins", "list"], environment: environment())
        XCTAssertEqual(status, 0, err)
        XCTAssertEqual(err, "")
        for id in ["gradus.sgd", "gradus.adam", "gradus.layernorm", "gradus.batchnorm", "gradus.magnitude", "gradus.constant", "gradus.step",
                   "gradus.exponential", "gradus.cosine_warmup"] {
            let row = out.split(separator: "\n").first { $0.hasPrefix(id + " ") }
            XCTAssertNotNil(row, "\(id) missing from:\n\(out)")
            XCTAssertTrue(row?.contains("abi 1.2") ?? false)
        }
        let (_, json, _) = try TestSupport.run(gradus, ["plugins", "list", "--json"], environment: environment())
        let list = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        XCTAssertEqual(list.count, TestSupport.builtinRegistry().strategies.count)
        XCTAssertTrue(list.allSatisfy { ($0["abi_version"] as? String) == "1.2" })
    }

    func testPluginsInfoShowsSchemaCapabilitiesFileAndABI() throws {
        let (status, out, err) = try TestSupport.run(gradus, ["plugins", "info", "adam", "--json"], environment: environment())
        XCTAssertEqual(status, 0, err)
        let info = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        XCTAssertEqual(info["id"] as? String, "gradus.adam")
        XCTAssertEqual(info["abi_version"] as? String, "1.2")
        XCTAssertTrue((info["file"] as? String)?.hasSuffix("libGradusPluginAdam.so") ?? false)
        let hps = try XCTUnwrap(info["hyperparameters"] as? [[String: Any]])
        XCTAssertEqual(hps.map { $0["id"] as! String }, ["lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad", "maximize"])
        XCTAssertEqual(hps[0]["default"] as? Double, 0.001)
        let (_, text, _) = try TestSupport.run(gradus, ["plugins", "info", "gradus.cosine_warmup"], environment: environment())
        XCTAssertTrue(text.contains("signature:    f64 cosine_warmup(i64 step, i64 total_steps, i64 warmup_steps, f64 base, f64 floor)"), text)
        let (bad, _, badErr) = try TestSupport.run(gradus, ["plugins", "info", "nosuch"], environment: environment())
        XCTAssertEqual(bad, 1)
        XCTAssertTrue(badErr.hasPrefix("gradus: error: unknown plugin 'nosuch' (available: "), badErr)
    }

    func testTracePrintsOneJSONLinePerStepPlusTheStart() throws {
        let (status, out, err) = try TestSupport.run(
            gradus, ["trace", "--optimizer", "adam", "--function", "rosenbrock", "--steps", "100", "--set", "lr=0.01"], environment: environment())
        XCTAssertEqual(status, 0, err)
        let lines = out.split(separator: "\n")
        XCTAssertEqual(lines.count, 101)
        for (k, line) in lines.enumerated() {
            let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(obj["step"] as? Int, k)
            XCTAssertEqual((obj["x"] as? [Double])?.count, 2)
            XCTAssertNotNil(obj["f"] as? Double)
        }
        // float32 rosenbrock at the start, evaluated in torch's order: 24.20000457763672.
        XCTAssertEqual(String(lines[0]), "{\"step\": 0, \"x\": [-1.2, 1.0], \"f\": 24.200005}")
    }

    /// `--function least_squares --data DIR`: X is the [k, n] matrix of x0.npy, listed row-major;
    /// the first steps follow torch's AdamW on the same problem (golden fixture) and f decreases.
    func testTraceOnTheLeastSquaresMatrixProblem() throws {
        let (a, b, x0) = try GoldenFixtures.matrixProblem("least_squares_tall")
        let dir = try TestSupport.temporaryDirectory()
        for (name, t) in [("a", a), ("b", b), ("x0", x0)] {
            try TestSupport.npy(t.shape, t.scalars).write(to: URL(fileURLWithPath: dir + "/\(name).npy"))
        }
        let golden = try XCTUnwrap(GoldenFixtures.cases("adamw").first { $0.problem == "least_squares_tall" })
        let settings = golden.settings.flatMap { ["--set", "\($0.0)=\($0.1)"] }
        let (status, out, err) = try TestSupport.run(gradus, ["trace", "--optimizer", "adamw", "--function", "least_squares", "--data", dir,
                                                              "--steps", "150"] + settings, environment: environment())
        XCTAssertEqual(status, 0, err)
        let lines = try out.split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(lines.count, 151)
        let xs = lines.map { ($0["x"] as? [Double] ?? []).map(Float.init) }
        XCTAssertEqual(xs[0], x0.scalars)
        for k in 0...10 { TestSupport.assertClose(xs[k], golden.points[k].map(Double.init), 1e-5, "step \(k)") }
        let f = lines.map { $0["f"] as? Double ?? .nan }
        XCTAssertLessThan(f[150], f[0] / 2)
    }

    /// The routed run: Muon on the hidden matrices, AdamW on the rest, YAML form; the digits
    /// MLP reaches 0.95 and the checkpoint holds both optimizers' state.
    func testMuonPlusAdamWRoutedDigitsRun() throws {
        let dir = try TestSupport.temporaryDirectory()
        try "optimizer: {id: adamw, lr: 0.003}\nroute: {matrix: {id: muon, lr: 0.02}}\n".write(toFile: dir + "/run.yaml", atomically: true, encoding: .utf8)
        let (status, out, err) = try TestSupport.run(gradus, ["train", dir + "/run.yaml", "--checkpoint", dir + "/c.safetensors"], environment: environment())
        XCTAssertEqual(status, 0, err)
        let last = try XCTUnwrap(out.split(separator: "\n").last.map(String.init))
        XCTAssertTrue(last.hasSuffix("— gradus.adamw + gradus.muon (route.matrix) on digits, 20 epochs"), last)
        let accuracy = try XCTUnwrap(Double(last.split(separator: " ")[2]))
        XCTAssertGreaterThanOrEqual(accuracy, 0.95)
        let saved = try Checkpoint(contentsOf: dir + "/c.safetensors")
        XCTAssertNotNil(saved.optimizerState["optimizer/layers.0.weight/momentum_buffer"], "Muon's state")
        XCTAssertNotNil(saved.optimizerState["optimizer/layers.0.bias/exp_avg"], "AdamW's state")
        XCTAssertEqual(saved.groupOptimizers, ["default": "gradus.adamw", "route.matrix": "gradus.muon"])
    }

    /// JSON has no NaN or Infinity: the lines `train`, `eval` and `trace` print write them as null,
    /// and paths are escaped, so every line parses as strict JSON.
    func testJSONLinesAreStrictWithNonFiniteNumbersAndOddPaths() throws {
        let metrics = EpochMetrics(epoch: 3, trainLoss: .nan, testLoss: .infinity, testAccuracy: 0.5, seconds: 1.25, sparsity: -.infinity)
        let point = TracePoint(step: 2, x: [.nan, 1], f: .infinity)
        for line in [metrics.jsonLine, point.jsonLine] {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
            XCTAssertTrue(line.contains("null"), line)
            XCTAssertFalse(line.contains("nan") || line.contains("inf"), line)
            XCTAssertNotNil(object["step"] ?? object["epoch"])
        }
        // eval echoes the checkpoint path: quotes, backslashes and control characters are escaped.
        let dir = try TestSupport.temporaryDirectory() + "/odd \"name\\ \u{1}"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let ck = dir + "/ck.safetensors"
        let (status, _, err) = try TestSupport.run(gradus, ["train", "--set", "epochs=1", "--checkpoint", ck], environment: environment())
        XCTAssertEqual(status, 0, err)
        let (evalStatus, out, evalErr) = try TestSupport.run(gradus, ["eval", ck], environment: environment())
        XCTAssertEqual(evalStatus, 0, evalErr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], out)
        XCTAssertEqual(object["checkpoint"] as? String, ck)
    }

    func testTraceWithNegativeStartAndSchedule() throws {
        let (status, out, err) = try TestSupport.run(gradus, [
            "trace", "--optimizer", "gradus.sgd", "--function", "quadratic", "--steps", "4", "--start=-2,0.5",
            "--set", "lr=0.1", "--schedule", "lr=step", "--set", "step.step_size=2", "--set", "step.gamma=0.5"], environment: environment())
        XCTAssertEqual(status, 0, err)
        let xs = out.split(separator: "\n").map { line -> Double in
            let obj = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return (obj["x"] as! [Double])[0]
        }
        XCTAssertEqual(xs.count, 5)
        XCTAssertEqual(xs[0], -2)
        XCTAssertEqual(xs[1], -1.8, accuracy: 1e-6)      // lr 0.1
        XCTAssertEqual(xs[3], -1.8 * 0.9 * 0.95, accuracy: 1e-6)  // lr 0.05 from the third step
    }

    func testTraceErrorsAreOneLineWithExitStatus1() throws {
        let optimizers = TestSupport.builtinRegistry().strategies.filter { $0.kind == .optimizer }.map(\.id).sorted().joined(separator: ", ")
        let cases: [([String], String)] = [
            (["--optimizer", "adam", "--function", "rosenbrock", "--set", "lr=-3"],
             "gradus: error: gradus.adam: lr=-3 is out of range (expected [0, inf])\n"),
            (["--optimizer", "adam", "--function", "rosenbrock", "--set", "betas=0.9,0.99"],
             "gradus: error: gradus.adam: unknown hyperparameter 'betas' (expected one of: lr, beta1, beta2, eps, weight_decay, amsgrad, maximize)\n"),
            (["--optimizer", "nosuch", "--function", "rosenbrock"],
             "gradus: error: unknown optimizer 'nosuch' (available: \(optimizers))\n"),
            (["--optimizer", "adam", "--function", "sphere"],
             "gradus: error: unknown function 'sphere' (expected one of: rosenbrock, beale, quadratic, rastrigin, booth, himmelblau, least_squares)\n"),
            (["--optimizer", "adam", "--function", "beale", "--start=1"],
             "gradus: error: --start=1: expected two finite numbers x,y (e.g. --start=-1.2,1)\n"),
            (["--optimizer", "sgd", "--function", "beale", "--schedule", "lr=cosine_warmup", "--set", "cosine_warmup.floor=0"],
             "gradus: error: gradus.cosine_warmup: missing argument 'warmup_steps' (i64) for 'f64 cosine_warmup(i64 step, i64 total_steps, i64 warmup_steps, f64 base, f64 floor)'; given: base, floor, step, total_steps\n"),
        ]
        for (args, expected) in cases {
            let (status, out, err) = try TestSupport.run(gradus, ["trace"] + args, environment: environment())
            XCTAssertEqual(status, 1, args.joined(separator: " "))
            XCTAssertEqual(out, "")
            XCTAssertEqual(err, expected)
        }
    }

    func testTrainWithNoArgumentsPrintsTheTestAccuracy() throws {
        let (status, out, err) = try TestSupport.run(gradus, ["train"], environment: environment())
        XCTAssertEqual(status, 0, err)
        let lines = out.split(separator: "\n")
        XCTAssertEqual(lines.count, 21)
        let last = String(lines[20])
        XCTAssertTrue(last.hasPrefix("test accuracy: 0.9"), last)
        let accuracy = Double(last.dropFirst("test accuracy: ".count).prefix(6))!
        XCTAssertGreaterThanOrEqual(accuracy, 0.96)
        let (bad, _, badErr) = try TestSupport.run(gradus, ["train", "--set", "optimizer.betas=0.9"], environment: environment())
        XCTAssertEqual(bad, 1)
        XCTAssertEqual(badErr, "gradus: error: gradus.adam: unknown hyperparameter 'betas' (expected one of: lr, beta1, beta2, eps, weight_decay, amsgrad, maximize)\n")
    }

    func testBrokenFileInPluginPathGivesOneWarningAndTheRestStillList() throws {
        let folder = try TestSupport.temporaryDirectory()
        try Data([0x7F, 0x45, 0x4C, 0x46, 1, 2, 3]).write(to: URL(fileURLWithPath: folder + "/truncated.so"))
        let (status, out, err) = try TestSupport.run(gradus, ["plugins", "list"], environment: environment(["GRADUS_PLUGIN_PATH": folder]))
        XCTAssertEqual(status, 0)
        XCTAssertEqual(err, "gradus: warning: \(folder)/truncated.so: not a shared library (no ELF header)\n")
        XCTAssertEqual(out.split(separator: "\n").count, 1 + TestSupport.builtinRegistry().strategies.count)
    }

    /// Element-wise plugin loops split large tensors across threads; every element is updated by
    /// one thread, so a run is bit-identical for any thread count (a 1024×1024 layer gives 4 chunks).
    func testTrainingIsBitIdenticalAcrossThreadCounts() throws {
        let dir = try TestSupport.temporaryDirectory()
        var files: [Data] = []
        for threads in ["1", "4"] {
            let path = dir + "/t\(threads).safetensors"
            let (status, _, err) = try TestSupport.run(gradus, ["train", "--set", "model.hidden=1024,1024", "--set", "epochs=1",
                                                              "--set", "optimizer.amsgrad=true", "--checkpoint", path],
                                                       environment: environment(["GRADUS_NUM_THREADS": threads]))
            XCTAssertEqual(status, 0, err)
            files.append(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        XCTAssertGreaterThan(files[0].count, 4 * 1024 * 1024 * 3)
        XCTAssertEqual(files[0], files[1], "checkpoints after 1 and 4 threads differ")
    }

    /// A YAML configuration through the CLI: its values reach the run (the checkpoint records
    /// the configuration), and `--set` overrides it.
    func testYAMLConfigurationThroughTheCLI() throws {
        let dir = try TestSupport.temporaryDirectory()
        try """
            optimizer:
              id: sgd
              lr: 0.05
              momentum: 0.9
            model:
              hidden: [48, 24]
            normalize: none
            pruner: magnitude
            pruner.sparsity: 0.5
            pruner.scope: global
            prune_end_epoch: 2
            epochs: 3
            """.write(toFile: dir + "/run.yaml", atomically: true, encoding: .utf8)
        let (status, out, err) = try TestSupport.run(gradus, ["train", dir + "/run.yaml", "--set", "epochs=2", "--checkpoint", dir + "/ck.safetensors"],
                                                     environment: environment())
        XCTAssertEqual(status, 0, err)
        XCTAssertEqual(out.split(separator: "\n").count, 3, "two epochs (--set overrides the file) and the summary")
        XCTAssertTrue(out.contains("\"sparsity\": 0.5"), out)
        let saved = try Checkpoint(contentsOf: dir + "/ck.safetensors")
        XCTAssertEqual(saved.config.optimizer, "sgd")
        XCTAssertEqual(saved.config.hidden, [48, 24])
        XCTAssertEqual(saved.config.normalize, "none")
        XCTAssertEqual(saved.config.epochs, 2)
        XCTAssertEqual(saved.config.optimizerSettings.map { "\($0.0)=\($0.1)" }, ["lr=0.05", "momentum=0.9"])
        XCTAssertEqual(saved.weights["layers.0.weight"]?.shape, [48, 64])
    }

    /// On a terminal (a pseudo-terminal from `script`) train draws a progress bar and erases it
    /// before each JSON line; piped, the output is JSON Lines only.
    func testProgressBarOnlyOnATerminal() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("util-linux script is not installed") }
        let (status, tty, err) = try TestSupport.run("/usr/bin/script", ["-qec", "\(gradus) train --set epochs=2", "/dev/null"],
                                                     environment: environment())
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(tty.contains("\r\u{1B}[Kepoch 1/2 ["), tty)
        XCTAssertTrue(tty.contains("[" + String(repeating: "=", count: 30) + "] 23/23 loss "), "the bar fills at the last batch: \(tty)")
        XCTAssertTrue(tty.contains("\r\u{1B}[K{\"epoch\": 2,"), "the bar is erased before the JSON line")
        let (_, piped, _) = try TestSupport.run(gradus, ["train", "--set", "epochs=2"], environment: environment())
        XCTAssertFalse(piped.contains("\u{1B}"))
        XCTAssertEqual(piped.split(separator: "\n").count, 3)
    }
}
