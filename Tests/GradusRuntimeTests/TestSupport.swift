import Foundation
import XCTest
@testable import GradusRuntime

/// Shared helpers: where the built plugins are, temporary folders, compiling C with `cc`.
enum TestSupport {
    /// The folder `swift build` put the products in (the test bundle sits there too).
    static let buildDirectory: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (exe as NSString).deletingLastPathComponent
        // The XCTest runner may live inside the .xctest bundle folder on some layouts.
        while !dir.isEmpty, dir != "/", !FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("libGradusPluginAdam.so")) {
            dir = (dir as NSString).deletingLastPathComponent
        }
        return dir
    }()

    /// The repository root (Tests/GradusRuntimeTests/<this file> is three levels down).
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var includeDirectory: String { repositoryRoot + "/SDK/include" }

    /// A registry of the built-in plugins only (no environment, no other paths).
    static func builtinRegistry(file: StaticString = #filePath, line: UInt = #line) -> PluginRegistry {
        var search = PluginSearch()
        search.environmentPath = nil
        search.builtinFolders = [.init(path: buildDirectory, prefix: "libGradusPlugin")]
        let registry = PluginRegistry(search: search)
        XCTAssertFalse(registry.strategies.isEmpty,
                       "no built-in plugins in \(buildDirectory): run `swift build` before `swift test`", file: file, line: line)
        return registry
    }

    /// A fresh private (0700) temporary folder.
    static func temporaryDirectory() throws -> String {
        var template = Array(((NSTemporaryDirectory() as NSString).appendingPathComponent("gradus-test-XXXXXX")).utf8CString)
        guard let p = mkdtemp(&template) else { throw GradusError("mkdtemp failed") }
        return String(cString: p)
    }

    /// Runs a program; returns (status, stdout, stderr).
    @discardableResult
    static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil,
                    directory: String? = nil) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = arguments
        if let environment { p.environment = environment }
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// Compiles C `source` into a shared library at `output` with the SDK headers; fails the test on error.
    /// `strict` adds -Wall -Wextra -Werror (off for the deliberately broken variants).
    static func compileC(_ source: String, to output: String, flags: [String] = [], strict: Bool = true) throws {
        let src = try temporaryDirectory() + "/" + ((output as NSString).lastPathComponent as NSString).deletingPathExtension + ".c"
        try source.write(toFile: src, atomically: true, encoding: .utf8)
        let warnings = strict ? ["-Wall", "-Wextra", "-Werror"] : ["-w"]
        let (status, _, err) = try run("/usr/bin/env", ["cc", "-std=c99"] + warnings + ["-shared", "-fPIC",
                                                        "-I", includeDirectory] + flags + ["-o", output, src])
        if status != 0 { throw GradusError("cc failed for \(output): \(err)") }
    }

    /// Loads a JSON fixture from the test bundle's resources.
    /// The path of a fixture file shipped with the tests.
    static func fixturePath(_ file: String) throws -> String {
        guard let url = Bundle.module.url(forResource: file, withExtension: nil, subdirectory: "Fixtures") else {
            throw GradusError("fixture \(file) not found")
        }
        return url.path
    }

    static func fixture(_ name: String) throws -> Any {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw GradusError("fixture \(name).json not found")
        }
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    }
}
