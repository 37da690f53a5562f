import XCTest
@testable import GradusRuntime

/// The SDK examples, built out of tree the way a stranger would build them, then
/// loaded by the same loader as the built-ins and run.
final class SDKExampleTests: XCTestCase {
    func testCExampleBuiltWithCCLoadsAndRuns() throws {
        let dir = try TestSupport.temporaryDirectory()
        let lib = dir + "/libsignum.so"
        let (status, _, err) = try TestSupport.run("/usr/bin/env", [
            "cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-pedantic", "-Werror", "-shared", "-fPIC", "-fvisibility=hidden",
            "-I", TestSupport.includeDirectory, TestSupport.repositoryRoot + "/SDK/Examples/CPlugin/signum.c", "-o", lib])
        XCTAssertEqual(status, 0, err)
        try assertOnlyEntryExported(lib)
        var search = PluginSearch()
        search.environmentPath = nil
        search.paths = [dir]
        search.builtinFolders = []
        let registry = PluginRegistry(search: search)
        XCTAssertEqual(registry.warnings, [])
        let signum = try registry.require("example.signum", kind: .optimizer)
        XCTAssertEqual(signum.hyperparameters.map(\.id), ["lr", "beta"])
        var xs: [[Float]] = []
        try TraceRunner.run(optimizer: signum, function: .named("quadratic"), start: [1, -1], steps: 3,
                            settings: [("lr", "0.25"), ("beta", "0.5")]) { xs.append($0.x) }
        // The gradient (x, 10y) has signs (+, -) throughout, so each step moves by exactly lr.
        XCTAssertEqual(xs, [[1, -1], [0.75, -0.75], [0.5, -0.5], [0.25, -0.25]])
        for r in PluginCheck.run(signum) { XCTAssertNotEqual(r.passed, false, "\(r.name): \(r.detail)") }
    }

    func testSwiftExampleBuiltWithSwiftPMLoadsAndRuns() throws {
        let scratch = try TestSupport.temporaryDirectory()
        let (status, out, err) = try TestSupport.run("/usr/bin/env", [
            "swift", "build", "--package-path", TestSupport.repositoryRoot + "/SDK/Examples/SwiftPlugin", "--scratch-path", scratch])
        XCTAssertEqual(status, 0, out + err)
        let lib = scratch + "/debug/libLion.so"
        let loaded = try PluginLoader.load(lib)
        let lion = try XCTUnwrap(loaded.strategies.first)
        XCTAssertEqual(lion.id, "example.lion")
        XCTAssertEqual(lion.capabilityNames, ["decoupled_weight_decay"])
        var xs: [[Float]] = []
        try TraceRunner.run(optimizer: lion, function: .named("quadratic"), start: [1, -1], steps: 2,
                            settings: [("lr", "0.125")]) { xs.append($0.x) }
        XCTAssertEqual(xs, [[1, -1], [0.875, -0.875], [0.75, -0.75]])
        let results = PluginCheck.run(lion)
        for r in results { XCTAssertNotEqual(r.passed, false, "\(r.name): \(r.detail)") }
        let zero = results.first { $0.name == "zero gradient is a no-op" }
        XCTAssertEqual(zero?.passed, true, "decoupled decay is checked with weight_decay=0")
        XCTAssertEqual(zero?.detail, "parameters after 3 zero-gradient steps with weight_decay=0")
    }

    func testBuiltinPluginsExportOnlyTheEntrySymbol() throws {
        for name in ["SGD", "Adam", "LayerNorm", "Magnitude", "Schedules"] {
            try assertOnlyEntryExported(TestSupport.buildDirectory + "/libGradusPlugin\(name).so")
        }
    }

    func assertOnlyEntryExported(_ file: String, line: UInt = #line) throws {
        let (status, out, err) = try TestSupport.run("/usr/bin/env", ["nm", "-D", "--defined-only", file])
        XCTAssertEqual(status, 0, err, line: line)
        let globals = out.split(separator: "\n").compactMap { row -> String? in
            let parts = row.split(separator: " ")
            guard parts.count == 3, let type = parts[1].first, type.isUppercase else { return nil }
            return String(parts[2])
        }
        XCTAssertEqual(globals, ["gradus_plugin_entry_v1"], file, line: line)
    }
}
