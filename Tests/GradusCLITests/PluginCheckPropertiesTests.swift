import XCTest
import GradusTestSupport

/// `gradus plugins check` catches every property it claims: for each of its thirteen properties a
/// plugin that breaks exactly that one (Fixtures/broken_plugins.c, -DBREAK_<NAME>) must fail that
/// check and no other, through the command and its exit status; the unbroken plugins pass.
final class PluginCheckPropertiesTests: XCTestCase {
    static let table: [(macro: String, id: String, failing: String?)] = [
        ("OPTIMIZER", "broken.optimizer", nil),
        ("BREAK_ZERO", "broken.optimizer", "zero gradient is a no-op"),
        ("BREAK_LR", "broken.optimizer", "lr = 0 does not move"),
        ("BREAK_DETERMINISM", "broken.optimizer", "same inputs give the same bits"),
        ("BREAK_INDEPENDENCE", "broken.optimizer", "parameters are updated independently"),
        ("BREAK_SAVELOAD", "broken.optimizer", "save and load mid-run equals a continuous run"),
        ("BREAK_SCHEDULE", "broken.optimizer", "schedulable values are read every step"),
        ("BREAK_FINITE", "broken.optimizer", "state stays finite"),
        ("BREAK_MAXIMIZE", "broken.optimizer", "maximize ascends: maximize with g equals minimize with -g"),
        ("NORMALIZER", "broken.normalizer", nil),
        ("BREAK_FD", "broken.normalizer", "kernel gradients match finite differences"),
        ("BREAK_GRAPH", "broken.normalizer", "graph form matches the kernel form"),
        ("BREAK_EVAL", "broken.normalizer", "eval mode is per-sample and leaves the buffers alone"),
        ("PRUNER", "broken.pruner", nil),
        ("BREAK_SPARSITY", "broken.pruner", "reaches the requested sparsity"),
        ("BREAK_PRUNE_DETERMINISM", "broken.pruner", "masks are deterministic"),
    ]

    func testEveryPropertyFailsForThePluginThatBreaksItAndOnlyThat() throws {
        let source = try String(contentsOfFile: TestSupport.fixturePath("broken_plugins.c"), encoding: .utf8)
        let dir = try TestSupport.temporaryDirectory()
        var properties: Set<String> = []
        for (macro, id, failing) in Self.table {
            let file = dir + "/\(macro).so"
            try TestSupport.compileC(source, to: file, flags: ["-D\(macro)", "-lm"])
            let (status, out, err) = try TestSupport.run(TestSupport.buildDirectory + "/gradus", ["plugins", "check", file],
                                                         environment: BadInputTests.environment())
            let fails = out.split(separator: "\n").filter { $0.hasPrefix("FAIL") }
            guard let failing else {
                XCTAssertEqual(status, 0, "\(macro): \(out)\(err)")
                XCTAssertEqual(fails, [], macro)
                continue
            }
            properties.insert(failing)
            XCTAssertEqual(status, 1, "\(macro): \(out)")
            XCTAssertEqual(fails.count, 1, "\(macro) should fail exactly one check:\n\(out)")
            XCTAssertTrue(fails.first?.hasPrefix("FAIL  \(id): \(failing) — ") ?? false, "\(macro):\n\(out)")
            XCTAssertTrue(err.hasPrefix("gradus: error: 1 of ") && err.hasSuffix(" check(s) failed\n"), "\(macro): \(err)")
        }
        XCTAssertEqual(properties.count, 13, "every property of the kit has a plugin that breaks it")
    }
}
