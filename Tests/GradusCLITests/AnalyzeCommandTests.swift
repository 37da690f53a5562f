import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GradusTestSupport
import XCTest

/// `gradus analyze` as a user runs it: one JSON object per subcommand, and every bad input one
/// error line with exit status 1.
final class AnalyzeCommandTests: XCTestCase {
    static var gradus: String { TestSupport.buildDirectory + "/gradus" }

    static func environment() -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["GRADUS_PLUGIN_PATH"] = nil
        env["GRADUS_ALLOW_INSECURE_PLUGINS"] = nil
        return env
    }

    /// Checkpoints of a digits MLP 64-3-10 after 1 and 2 epochs (same seed and split), of a 64-4-10,
    /// and of a 64-3-10 with seed 1 (another split), written once by `gradus train --checkpoint`.
    static let checkpoints: (one: String, two: String, wider: String, otherSeed: String) = {
        let dir = try! TestSupport.temporaryDirectory()
        func train(_ hidden: Int, epochs: Int, seed: Int = 0, _ name: String) -> String {
            let path = dir + "/\(name).safetensors"
            let (status, _, err) = try! TestSupport.run(gradus, ["train", "--set", "model.hidden=\(hidden)", "--set", "epochs=\(epochs)", "--set", "seed=\(seed)",
                                                                 "--checkpoint", path],
                                                        environment: environment())
            XCTAssertEqual(status, 0, err)
            return path
        }
        return (train(3, epochs: 1, "one"), train(3, epochs: 2, "two"), train(4, epochs: 1, "wider"), train(3, epochs: 1, seed: 1, "seed1"))
    }()

    /// Runs `gradus analyze ARGS`, expects success and returns the one JSON object printed.
    func analyze(_ arguments: [String], line: UInt = #line) throws -> [String: Any] {
        let (status, out, err) = try TestSupport.run(Self.gradus, ["analyze"] + arguments, environment: Self.environment())
        XCTAssertEqual(status, 0, err, line: line)
        XCTAssertEqual(err, "", line: line)
        XCTAssertEqual(out.filter { $0 == "\n" }.count, 1, "one line: \(out)", line: line)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], out, line: line)
    }

    func testHessianOfTheQuadraticIsTenAndOneWithTraceEleven() throws {
        let out = try analyze(["hessian", "--function", "quadratic", "--at=1,1", "--top", "2", "--trace"])
        let eigenvalues = try XCTUnwrap(out["eigenvalues"] as? [Double])
        XCTAssertEqual(eigenvalues.count, 2)
        XCTAssertEqual(eigenvalues[0], 10, accuracy: 1e-3)
        XCTAssertEqual(eigenvalues[1], 1, accuracy: 1e-4)
        XCTAssertEqual(out["trace"] as? Double, 11)
        XCTAssertEqual(out["trace_standard_error"] as? Double, 0)
        XCTAssertEqual(out["probes"] as? Int, 100)
        XCTAssertEqual(out["value"] as? Double, 5.5)
        let negative = try analyze(["hessian", "--function", "rosenbrock", "--at", "-1,2", "--top", "1"])
        XCTAssertEqual(negative["at"] as? [Double], [-1, 2])
    }

    /// All four subcommands on one checkpoint; the numbers agree with each other and with `gradus eval`.
    func testEverySubcommandOnACheckpoint() throws {
        let (one, two) = (Self.checkpoints.one, Self.checkpoints.two)
        let hessian = try analyze(["hessian", one, "--top", "3", "--trace", "--probes", "10", "--batch", "300"])
        let eigenvalues = try XCTUnwrap(hessian["eigenvalues"] as? [Double])
        XCTAssertEqual(eigenvalues.count, 3)
        XCTAssertEqual(eigenvalues, eigenvalues.sorted(by: >))
        XCTAssertEqual(hessian["parameters"] as? Int, 235)
        XCTAssertEqual(hessian["iterations"] as? Int, 60, "the default: max(4·top + 20, 60)")
        XCTAssertLessThanOrEqual(try XCTUnwrap(hessian["ritz_change"] as? Double), 1e-3, "converged at the default")
        XCTAssertEqual(hessian["rows"] as? Int, 300)
        XCTAssertNotNil(hessian["trace"] as? Double)

        let curve = try analyze(["landscape", one, "--steps", "5", "--span", "0.5", "--batch", "300"])
        XCTAssertEqual(curve["alphas"] as? [Double], [-0.5, -0.25, 0, 0.25, 0.5])
        let loss = try XCTUnwrap(curve["loss"] as? [Double])
        XCTAssertEqual(loss[2], hessian["loss"] as? Double, "α = 0 is the loss the Hessian is taken of")
        XCTAssertEqual((curve["accuracy"] as? [Double])?.count, 5)
        let grid = try analyze(["landscape", one, "--dims", "2", "--steps", "3", "--batch", "all"])
        let surface = try XCTUnwrap(grid["loss"] as? [[Double]])
        XCTAssertEqual(surface.map(\.count), [3, 3, 3])
        XCTAssertEqual(grid["rows"] as? Int, 1438)

        let (status, evalOut, evalErr) = try TestSupport.run(Self.gradus, ["eval", two], environment: Self.environment())
        XCTAssertEqual(status, 0, evalErr)
        let eval = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(evalOut.utf8)) as? [String: Any])
        let path = try analyze(["interpolate", one, two, "--steps", "4"])
        XCTAssertEqual(path["alphas"] as? [Double], [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual((path["test_loss"] as? [Double])?.last, eval["test_loss"] as? Double)
        XCTAssertEqual((path["test_accuracy"] as? [Double])?.last, eval["test_accuracy"] as? Double)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(path["train_barrier"] as? Double), 0)
        let same = try analyze(["interpolate", two, two, "--steps", "2"])
        XCTAssertEqual(same["train_barrier"] as? Double, 0)
        XCTAssertEqual(Set(try XCTUnwrap(same["test_loss"] as? [Double])), [eval["test_loss"] as! Double])

        // Another seed is another split: allowed, with a warning on stderr and the JSON on stdout.
        let (warned, warnedOut, warning) = try TestSupport.run(Self.gradus, ["analyze", "interpolate", one, Self.checkpoints.otherSeed, "--steps", "1"],
                                                               environment: Self.environment())
        XCTAssertEqual(warned, 0, warning)
        XCTAssertEqual(warning, "gradus: warning: \(Self.checkpoints.otherSeed) was trained with seed=1 (A: 0); every row evaluated comes from \(one)'s configuration, so its test split may hold rows \(Self.checkpoints.otherSeed) trained on\n")
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(warnedOut.utf8)) as? [String: Any])

        let ntk = try analyze(["ntk", one, "--samples", "4"])
        let kernel = try XCTUnwrap(ntk["kernel"] as? [[Double]])
        XCTAssertEqual(kernel.map(\.count), [4, 4, 4, 4])
        for i in 0..<4 { for j in 0..<4 { XCTAssertEqual(kernel[i][j], kernel[j][i]) } }
        let spectrum = try XCTUnwrap(ntk["eigenvalues"] as? [Double])
        XCTAssertEqual(spectrum.count, 4)
        XCTAssertGreaterThanOrEqual(spectrum.last!, -1e-5 * spectrum[0])
        XCTAssertEqual(ntk["trace"] as! Double, (0..<4).reduce(0) { $0 + kernel[$1][$1] }, accuracy: 1e-9)
    }

    func testBadInputIsOneLineWithStatus1() throws {
        let (one, wider) = (Self.checkpoints.one, Self.checkpoints.wider)
        let cases: [([String], String)] = [
            (["hessian", "DIR/missing.safetensors"], "DIR/missing.safetensors: cannot read the checkpoint: No such file or directory"),
            (["landscape", "DIR/notes.txt"], "DIR/notes.txt: not a safetensors file"),
            (["ntk", "DIR"], "DIR: is a directory, expected a checkpoint"),
            (["interpolate", one, "DIR/missing.safetensors"], "DIR/missing.safetensors: cannot read the checkpoint"),
            (["hessian", one, "--top", "0"], "--top 0: expected an integer in 1...235 (at most the number of parameters)"),
            (["hessian", one, "--top", "999999999999999999999"], "--top 999999999999999999999: expected an integer in 1...235"),
            (["hessian", one, "--top", "236"], "--top 236: expected an integer in 1...235"),
            (["hessian", one, "--top", "5", "--iterations", "4"], "--iterations 4: expected an integer in 5...235 (at least --top, at most the number of parameters)"),
            (["hessian", one, "--trace", "--probes", "0"], "--probes 0: expected an integer in 1...1000000"),
            (["hessian", one, "--seed", "-1"], "--seed -1: expected an integer in 0...18446744073709551615"),
            (["hessian", one, "--batch", "0"], "--batch 0: expected an integer in 1...1438 (the rows of the training split) or 'all'"),
            (["hessian", one, "--batch", "99999999999999999999999"], "--batch 99999999999999999999999: expected an integer in 1...1438"),
            (["hessian", "--function", "nope"], "--function nope: unknown function (expected one of: rosenbrock, beale, quadratic, rastrigin, booth, himmelblau)"),
            (["hessian", "--function", "quadratic", "--at=1"], "--at=1: expected 2 finite numbers separated by commas (e.g. --at=1,-2), got 1"),
            (["hessian", "--function", "quadratic", "--at=nan,1"], "--at=nan,1: 'nan' is not a finite number"),
            (["hessian", "--function", "quadratic", "--at=1,2,3"], "--at=1,2,3: expected 2 finite numbers"),
            (["hessian", "--function", "quadratic", "--top", "3"], "--top 3: expected an integer in 1...2"),
            (["hessian"], "expected a CHECKPOINT or --function NAME"),
            (["hessian", one, "--function", "quadratic"], "give a CHECKPOINT or --function, not both"),
            (["hessian", "--function", "quadratic", "--batch", "10"], "--batch applies only to a checkpoint"),
            (["hessian", one, "--at=1,1"], "--at applies only with --function"),
            (["landscape", one, "--dims", "3"], "--dims 3: expected 1 (a curve) or 2 (a grid)"),
            (["landscape", one, "--span", "-1"], "--span -1: expected a finite number > 0"),
            (["landscape", one, "--span", "inf"], "--span inf: expected a finite number > 0"),
            (["landscape", one, "--steps", "-1"], "--steps -1: expected an odd integer in 3...1001 (odd so that 0 is a point)"),
            (["landscape", one, "--steps", "4"], "--steps 4: expected an odd integer in 3...1001"),
            (["landscape", one, "--dims", "2", "--steps", "1001"], "--steps 1001: expected an odd integer in 3...201 with --dims 2"),
            (["hessian", one, "--probes", "10"], "--probes 10: applies only with --trace"),
            (["landscape", one, "--batch", "0"], "--batch 0: expected an integer in 1...1438"),
            (["interpolate", one, one, "--steps", "-1"], "--steps -1: expected an integer in 1...10000"),
            (["interpolate", one, wider], "\(wider): model.arch=mlp, model.hidden=4, normalizer=none differs from \(one): model.arch=mlp, model.hidden=3, normalizer=none; expected two checkpoints of the same architecture and shapes"),
            (["ntk", one, "--samples", "360"], "--samples 360: expected an integer in 1...359 (the rows of the test split)"),
            (["ntk", one, "--samples", "0"], "--samples 0: expected an integer in 1...359"),
            (["ntk", one, "--samples", "99999999999999999999999"], "--samples 99999999999999999999999: expected an integer in 1...359"),
            (["ntk", one, "--plot", "DIR/notes.txt"], "--plot DIR/notes.txt: expected a file name ending in .svg"),
            (["hessian", one, "--plot", "DIR/missing/h.svg"], "--plot DIR/missing/h.svg: the folder DIR/missing does not exist"),
            (["hessian", one, "--plot", "DIR/fake.svg"], "--plot DIR/fake.svg: exists and is not a chart Gradus drew; not replacing it"),
        ]
        let dir = try TestSupport.temporaryDirectory()
        try "Some notes, not a checkpoint.\n".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        try "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>my own drawing</text></svg>\n".write(toFile: dir + "/fake.svg", atomically: true, encoding: .utf8)
        defer {
            XCTAssertEqual(try? String(contentsOfFile: dir + "/notes.txt", encoding: .utf8), "Some notes, not a checkpoint.\n")
            XCTAssertEqual(try? String(contentsOfFile: dir + "/fake.svg", encoding: .utf8), "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>my own drawing</text></svg>\n")
        }
        for (arguments, expected) in cases {
            let args = ["analyze"] + arguments.map { $0.replacingOccurrences(of: "DIR", with: dir) }
            let (status, out, err) = try TestSupport.run(Self.gradus, args, environment: Self.environment())
            let what = "gradus \(args.joined(separator: " "))"
            XCTAssertEqual(status, 1, "\(what): \(err)")
            XCTAssertEqual(out, "", what)
            XCTAssertTrue(err.hasPrefix("gradus: error: ") && err.hasSuffix("\n"), "\(what): \(err)")
            XCTAssertEqual(err.filter { $0 == "\n" }.count, 1, "\(what): more than one line: \(err)")
            XCTAssertTrue(err.contains(expected.replacingOccurrences(of: "DIR", with: dir)), "\(what): expected '\(expected)' in: \(err)")
        }
    }

    /// `--plot FILE.svg` draws each result: a well-formed SVG file with one chart, styles inside.
    func testPlotsAreStandaloneSVGFiles() throws {
        let (one, two) = (Self.checkpoints.one, Self.checkpoints.two)
        let dir = try TestSupport.temporaryDirectory()
        let runs: [(String, [String], String)] = [
            ("hessian", ["hessian", "--function", "rosenbrock", "--at=1,1", "--top", "2"], "Top Hessian eigenvalues"),
            ("curve", ["landscape", one, "--steps", "5", "--batch", "100"], "Loss along a random direction"),
            ("grid", ["landscape", one, "--dims", "2", "--steps", "5", "--batch", "100"], "Loss over two random directions"),
            ("path", ["interpolate", one, two, "--steps", "3"], "Loss from A to B"),
            ("ntk", ["ntk", one, "--samples", "3"], "Empirical NTK eigenvalues (3 samples)"),
        ]
        for (name, arguments, title) in runs {
            let file = dir + "/\(name).svg"
            _ = try analyze(arguments + ["--plot", file])
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            XCTAssertTrue(XMLParser(data: data).parse(), "\(name).svg is well-formed XML")
            let text = String(decoding: data, as: UTF8.self)
            XCTAssertEqual(text.components(separatedBy: "<svg class=\"chart\"").count - 1, 1, name)
            XCTAssertTrue(text.contains("<style>") && text.contains(title), "\(name): \(text.prefix(400))")
        }
        _ = try analyze(["ntk", one, "--samples", "2", "--plot", dir + "/ntk.svg"])  // an SVG may be replaced
    }
}
