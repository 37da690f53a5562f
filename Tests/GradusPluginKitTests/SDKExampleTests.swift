import XCTest
@testable import GradusRuntime
import GradusTestSupport

/// The SDK examples, built out of tree the way a stranger would build them, then
/// loaded by the same loader as the built-ins and run.
final class SDKExampleTests: XCTestCase {
    /// The C example is built with the command its header comment gives (plus strict warnings),
    /// loaded by the normal loader, and its trajectory matches the RMSprop formula in float32.
    func testCExampleBuiltWithCCLoadsAndRuns() throws {
        let dir = try TestSupport.temporaryDirectory()
        let lib = dir + "/librmsprop.so"
        let source = TestSupport.repositoryRoot + "/SDK/Examples/CPlugin/rmsprop.c"
        XCTAssertLessThanOrEqual(try String(contentsOfFile: source, encoding: .utf8).split(separator: "\n").count, 42,
                                 "a C RMSprop takes about 40 lines with <gradus/kit.h>")
        let (status, _, err) = try TestSupport.run("/usr/bin/env", [
            "cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-pedantic", "-Werror", "-shared", "-fPIC", "-fvisibility=hidden",
            "-I", TestSupport.includeDirectory, source, "-o", lib, "-lm"])
        XCTAssertEqual(status, 0, err)
        try assertOnlyEntryExported(lib)
        var search = PluginSearch()
        search.environmentPath = nil
        search.paths = [dir]
        search.builtinFolders = []
        let registry = PluginRegistry(search: search)
        XCTAssertEqual(registry.warnings, [])
        let rmsprop = try registry.require("example.rmsprop", kind: .optimizer)
        XCTAssertEqual(rmsprop.hyperparameters.map(\.id), ["lr", "alpha", "eps", "weight_decay"])
        XCTAssertEqual(rmsprop.hyperparameters[0].maxReal, .infinity, "GRADUS_NO_MAX is no upper bound")
        var xs: [[Float]] = []
        try TraceRunner.run(optimizer: rmsprop, function: .named("quadratic"), start: [1, -1], steps: 5,
                            settings: [("lr", "0.05"), ("alpha", "0.8"), ("weight_decay", "0.1")]) { xs.append($0.x) }
        // The same update written out: gradient (x, 10y) of ½(x² + 10y²), float32 throughout.
        var x: [Float] = [1, -1], v: [Float] = [0, 0]
        var expected = [x]
        for _ in 0..<5 {
            for k in 0..<2 {
                let g = (k == 0 ? x[0] : 10 * x[1]) + 0.1 * x[k]
                v[k] = 0.8 * v[k] + (1 - 0.8) * g * g
                x[k] -= 0.05 * g / (v[k].squareRoot() + 1e-8)
            }
            expected.append(x)
        }
        for (a, b) in zip(xs.joined(), expected.joined()) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b))) }
        XCTAssertEqual(xs.count, 6)
        for r in PluginCheck.run(rmsprop) { XCTAssertNotEqual(r.passed, false, "\(r.name): \(r.detail)") }
    }

    /// The ```swift blocks of SDK/README.md, in order.
    func readmeSwiftBlocks() throws -> [String] {
        let text = try String(contentsOfFile: TestSupport.repositoryRoot + "/SDK/README.md", encoding: .utf8)
        return text.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
    }

    /// The README's Swift snippet and its path-form Package.swift, copied out of the README into a
    /// new package outside the tree and built as written (Swift 6 language mode, the tools
    /// version's default); the in-tree example must be the same text.
    func testSDKReadmeSnippetBuildsAsWrittenOutOfTreeAndRuns() throws {
        let blocks = try readmeSwiftBlocks()
        let source = try XCTUnwrap(blocks.first { $0.contains("struct Lion: OptimizerPlugin") })
        let manifest = try XCTUnwrap(blocks.first { $0.contains(".package(name: \"Gradus\", path: \"../gradus\")") })
        let example = TestSupport.repositoryRoot + "/SDK/Examples/SwiftPlugin"
        XCTAssertEqual(source, try String(contentsOfFile: example + "/Sources/Lion/Lion.swift", encoding: .utf8),
                       "SDK/README.md's snippet and Examples/SwiftPlugin differ")
        XCTAssertEqual(manifest.replacingOccurrences(of: "\"../gradus\"", with: "\"../../..\""),
                       try String(contentsOfFile: example + "/Package.swift", encoding: .utf8))
        XCTAssertLessThanOrEqual(source.split(separator: "\n").count, 40, "a Swift optimizer takes about 40 lines")

        let package = try TestSupport.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: package + "/Sources/Lion", withIntermediateDirectories: true)
        try manifest.replacingOccurrences(of: "\"../gradus\"", with: "\"\(TestSupport.repositoryRoot)\"")
            .write(toFile: package + "/Package.swift", atomically: true, encoding: .utf8)
        try source.write(toFile: package + "/Sources/Lion/Lion.swift", atomically: true, encoding: .utf8)
        let scratch = try TestSupport.temporaryDirectory()
        let (status, out, err) = try TestSupport.run("/usr/bin/env", ["swift", "build", "--package-path", package, "--scratch-path", scratch])
        XCTAssertEqual(status, 0, out + err)
        XCTAssertFalse((out + err).contains("warning:"), out + err)
        let lib = scratch + "/debug/libLion.so"
        let loaded = try PluginLoader.load(lib)
        let lion = try XCTUnwrap(loaded.strategies.first)
        XCTAssertEqual(lion.id, "example.lion")
        XCTAssertEqual(lion.hyperparameters.map(\.id), ["lr", "beta1", "beta2", "weight_decay"])
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
