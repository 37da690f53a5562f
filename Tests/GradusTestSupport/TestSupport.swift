import Foundation
import XCTest
import GradusRuntime

/// Shared helpers: where the built plugins are, temporary folders, compiling C with `cc`.
public enum TestSupport {
    /// The folder `swift build` put the products in (the test bundle sits there too).
    public static let buildDirectory: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (exe as NSString).deletingLastPathComponent
        // The XCTest runner may live inside the .xctest bundle folder on some layouts.
        while !dir.isEmpty, dir != "/", !FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("libGradusPluginAdam.so")) {
            dir = (dir as NSString).deletingLastPathComponent
        }
        return dir
    }()

    /// The repository root (Tests/GradusRuntimeTests/<this file> is three levels down).
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static var includeDirectory: String { repositoryRoot + "/SDK/include" }

    /// A registry of the built-in plugins only (no environment, no other paths).
    public static func builtinRegistry(file: StaticString = #filePath, line: UInt = #line) -> PluginRegistry {
        var search = PluginSearch()
        search.environmentPath = nil
        search.builtinFolders = [.init(path: buildDirectory, prefix: "libGradusPlugin")]
        let registry = PluginRegistry(search: search)
        XCTAssertFalse(registry.strategies.isEmpty,
                       "no built-in plugins in \(buildDirectory): run `swift build` before `swift test`", file: file, line: line)
        return registry
    }

    /// A registry holding only the plugin compiled from `cSource` (no built-ins, no environment).
    public static func registry(compilingC cSource: String, name: String = "probe") throws -> PluginRegistry {
        let dir = try temporaryDirectory()
        try compileC(cSource, to: dir + "/\(name).so")
        var search = PluginSearch()
        search.environmentPath = nil
        search.paths = [dir]
        search.builtinFolders = []
        return PluginRegistry(search: search)
    }

    /// C source of an optimizer plugin `id` that declares scalar or parameter-shaped `slots`
    /// ("name" or "name[]") and runs `step` as the body of its step function, with `c` (the step
    /// context), `g` (the group) and `h` (the host services) in scope. For probing host services.
    public static func probeOptimizer(id: String, capabilities: String, slots: [String], step: String) -> String {
        let slotRows = slots.map { s in
            let like = s.hasSuffix("[]")
            return "    { sizeof(gradus_state_slot), 0, \"\(like ? String(s.dropLast(2)) : s)\", \(like ? "GRADUS_SLOT_LIKE_PARAM" : "GRADUS_SLOT_SCALAR"), 0, 0.0 },"
        }.joined(separator: "\n")
        return """
        #include <gradus/gradus.h>
        static int token;
        static const gradus_state_slot slots[] = {
        \(slotRows)
        };
        static int32_t create(const struct gradus_strategy_descriptor *s, const gradus_host_services *h, const gradus_hp_values *hp, void **out) {
            (void)s; (void)h; (void)hp; *out = &token; return GRADUS_OK; }
        static void destroy(void *i) { (void)i; }
        static int32_t layout(void *i, const gradus_state_slot **s, uint32_t *n) { (void)i; *s = slots; *n = \(slots.count); return GRADUS_OK; }
        static int32_t step(void *i, const gradus_step_context *c, const gradus_param_group *g) {
            (void)i;
            const gradus_host_services *h = c->services;
        \(step)
        }
        static const gradus_optimizer_vtable vt = { .struct_size = sizeof(gradus_optimizer_vtable), .abi_minor = 0, .create = create, .destroy = destroy, .state_layout = layout, .step = step };
        static const gradus_strategy_descriptor d = { sizeof(gradus_strategy_descriptor), 0, GRADUS_KIND_OPTIMIZER, 0,
            "\(id)", "Probe", "1.0.0", "probes host services", NULL, \(capabilities), NULL, 0, 0, &vt };
        static const gradus_strategy_descriptor *const list[] = { &d };
        static const gradus_library_descriptor lib = { sizeof(gradus_library_descriptor), 0, "probe", NULL, list, 1, 0 };
        GRADUS_EXPORT int32_t gradus_plugin_entry_v1(const gradus_entry_request *q, gradus_entry_response *r);
        GRADUS_EXPORT int32_t gradus_plugin_entry_v1(const gradus_entry_request *q, gradus_entry_response *r) {
            r->abi_minor = gradus_negotiated_minor(q); r->library = &lib; return GRADUS_OK; }
        """
    }

    /// A normalizer session of a built-in plugin.
    public static func normalizerSession(_ id: String, _ shape: [Int], _ settings: [(String, String)] = [], dims: Int = 1) throws -> NormalizerSession {
        let s = try builtinRegistry().require(id, kind: .normalizer)
        let hp = try HyperparameterSet(schema: s.hyperparameters, overrides: settings, owner: s.id)
        return try NormalizerSession(strategy: s, hyperparameters: hp, inputShape: shape, normalizedDims: dims)
    }

    /// Element-wise |a − b| ≤ tol·max(1, |b|) against reference values.
    public static func assertClose(_ a: [Float], _ b: [Double], _ tol: Float, _ what: String, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, line: line)
        for (i, (x, y)) in zip(a, b).enumerated() {
            XCTAssertLessThanOrEqual(abs(x - Float(y)), tol * max(1, abs(Float(y))), "\(what)[\(i)]: \(x) vs reference \(y)", line: line)
        }
    }

    /// A little-endian float32 NPY file of `shape` holding `values` (row-major).
    public static func npy(_ shape: [Int], _ values: [Float]) -> Data {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
        out.append(contentsOf: Array(header.utf8))
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    /// A fresh private (0700) temporary folder.
    public static func temporaryDirectory() throws -> String {
        var template = Array(((NSTemporaryDirectory() as NSString).appendingPathComponent("gradus-test-XXXXXX")).utf8CString)
        guard let p = mkdtemp(&template) else { throw GradusError("mkdtemp failed") }
        return String(cString: p)
    }

    /// Runs a program; returns (status, stdout, stderr).
    @discardableResult
    public static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil,
                           directory: String? = nil, timeout: Double = 600) throws -> (Int32, String, String) {
        // A time limit, so that a test of something that should stop cannot hang the suite.
        let outcome = try ChildProcess.run(program, arguments, timeout: timeout, environment: environment, directory: directory)
        switch outcome.ending {
        case .exited(let status), .signaled(let status):
            return (status, outcome.stdout, outcome.stderr)
        case .timedOut:
            XCTFail("\(program) \(arguments.joined(separator: " ")) did not finish within \(Int(timeout)) s")
            return (-1, outcome.stdout, outcome.stderr + "(killed after \(Int(timeout)) s)")
        }
    }

    /// Compiles C `source` into a shared library at `output` with the SDK headers; fails the test on error.
    /// `strict` adds -Wall -Wextra -Werror (off for the deliberately broken variants).
    public static func compileC(_ source: String, to output: String, flags: [String] = [], strict: Bool = true) throws {
        let src = try temporaryDirectory() + "/" + ((output as NSString).lastPathComponent as NSString).deletingPathExtension + ".c"
        try source.write(toFile: src, atomically: true, encoding: .utf8)
        let warnings = strict ? ["-Wall", "-Wextra", "-Werror"] : ["-w"]
        let (status, _, err) = try run("/usr/bin/env", ["cc", "-std=c99"] + warnings + ["-shared", "-fPIC",
                                                        "-I", includeDirectory] + flags + ["-o", output, src])
        if status != 0 { throw GradusError("cc failed for \(output): \(err)") }
    }

    /// Loads a JSON fixture from the test bundle's resources.
    /// The path of a fixture file shipped with the tests.
    public static func fixturePath(_ file: String) throws -> String {
        guard let url = Bundle.module.url(forResource: file, withExtension: nil, subdirectory: "Fixtures") else {
            throw GradusError("fixture \(file) not found")
        }
        return url.path
    }

    public static func fixture(_ name: String) throws -> Any {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw GradusError("fixture \(name).json not found")
        }
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    }
}
