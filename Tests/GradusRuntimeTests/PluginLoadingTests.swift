import XCTest
@testable import GradusRuntime
import CGradusABI
import GradusTestSupport

/// Negotiation and validation: one deliberately broken plugin per rejection reason,
/// built from Fixtures/test_plugin.c with `cc`; the host rejects each with one line
/// naming the reason and carries on with the rest.
final class PluginLoadingTests: XCTestCase {
    static var dir = ""
    static var source = ""

    override class func setUp() {
        super.setUp()
        dir = (try? TestSupport.temporaryDirectory()) ?? "/tmp"
        source = (try? String(contentsOf: URL(fileURLWithPath: (try? TestSupport.fixturePath("test_plugin.c")) ?? ""),
                              encoding: .utf8)) ?? ""
    }

    /// Builds the test plugin with `defines` into `<dir>/<name>.so`.
    func build(_ name: String, _ defines: [String] = [], in folder: String? = nil) throws -> String {
        let out = (folder ?? Self.dir) + "/\(name).so"
        try TestSupport.compileC(Self.source, to: out, flags: defines.map { "-D" + $0 }, strict: defines.isEmpty)
        return out
    }

    func rejection(_ name: String, _ defines: [String]) throws -> String {
        let file = try build(name, defines)
        do {
            _ = try PluginLoader.load(file)
            return "loaded"
        } catch { return "\(error)" }
    }

    func testValidCPluginLoadsWithEveryStrategy() throws {
        let lib = try PluginLoader.load(try build("valid"))
        XCTAssertEqual(lib.name, "test-plugin")
        XCTAssertEqual(lib.abiMinor, 2)
        XCTAssertEqual(lib.strategies.count, 11)
        XCTAssertEqual(lib.strategies[0].id, "test.plain")
        XCTAssertEqual(lib.strategies[0].hyperparameters.map(\.id), ["lr"])
        XCTAssertEqual(lib.strategies[0].abiVersion, "1.2")
    }

    func testLongerStructFromNewerHeaderIsReadUpToWhatTheHostKnows() throws {
        XCTAssertEqual(try PluginLoader.load(try build("long", ["LONG_STRUCT"])).strategies.count, 11)
    }

    func testEachRejectionReasonIsOneClearLine() throws {
        let notLibrary = Self.dir + "/notes.so"
        try "just text\n".write(toFile: notLibrary, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PluginLoader.load(notLibrary)) { XCTAssertEqual("\($0)", "not a shared library (no ELF header)") }

        let expectations: [(String, [String], String)] = [
            ("other_major", ["BREAK_OTHER_MAJOR"], "no 'gradus_plugin_entry_v1' symbol: not a Gradus plugin, or one built for another ABI major"),
            ("refuse", ["BREAK_REFUSE"], "plugin refused to load (status 9): this machine lacks the AVX-1024 the plugin needs"),
            ("newer_minor", ["BREAK_NEWER_MINOR"], "plugin answered ABI 1.7, expected 1.0 to 1.2"),
            ("short_struct", ["BREAK_SHORT_STRUCT"], "library descriptor has struct_size 8, expected at least 40 (ABI 1.0)"),
            ("null_library", ["BREAK_NULL_LIBRARY"], "plugin answered OK but gave no library descriptor"),
            ("null_slot", ["BREAK_NULL_SLOT"], "strategy 'test.plain' has a NULL required slot 'step'"),
            ("schema", ["BREAK_SCHEMA"], "strategy 'test.plain' hyperparameter 'lr' has default 5 outside its range [0, 1]"),
            ("bad_id", ["BREAK_BAD_ID"], "strategy 0 has id 'NoVendorHere', expected 'vendor.name' in lowercase letters, digits, '_', '-' and '.'"),
            ("duplicate", ["BREAK_DUPLICATE_ID"], "library 'test-plugin' lists strategy 'test.plain' twice"),
            ("capability", ["BREAK_UNKNOWN_CAPABILITY"], "strategy 'test.plain' declares unknown capability bits 0x10000000000 (this host knows 0x7fffff)"),
            ("signature", ["BREAK_SIGNATURE"], "strategy 'test.read_void' has signature 'i32 read(matrix m)': unknown argument type 'matrix'"),
        ]
        for (name, defines, message) in expectations {
            XCTAssertEqual(try rejection(name, defines), message, name)
        }
    }

    func testLibraryWithoutEntrySymbol() throws {
        let file = Self.dir + "/no_entry.so"
        try TestSupport.compileC("int unrelated(void);\nint unrelated(void) { return 1; }\n", to: file)
        XCTAssertThrowsError(try PluginLoader.load(file)) { XCTAssertTrue("\($0)".hasPrefix("no 'gradus_plugin_entry_v1' symbol")) }
    }

    func testRegistryWarnsOncePerBadFileAndKeepsTheRest() throws {
        let folder = try TestSupport.temporaryDirectory()
        _ = try build("a_valid", in: folder)
        _ = try build("b_broken", ["BREAK_NULL_SLOT"], in: folder)
        _ = try build("c_duplicate", in: folder)
        try "garbage".write(toFile: folder + "/d_text.so", atomically: true, encoding: .utf8)
        var search = PluginSearch()
        search.environmentPath = folder
        search.builtinFolders = [.init(path: TestSupport.buildDirectory, prefix: "libGradusPlugin")]
        var printed: [String] = []
        let registry = PluginRegistry(search: search) { printed.append($0) }
        XCTAssertEqual(printed, registry.warnings)
        XCTAssertEqual(printed.count, 1 + 11 + 1, printed.joined(separator: "\n"))
        XCTAssertTrue(printed[0].hasPrefix(folder + "/b_broken.so: strategy 'test.plain' has a NULL required slot"))
        XCTAssertEqual(printed[1], "\(folder)/c_duplicate.so: strategy 'test.plain' is already provided by \(folder)/a_valid.so; skipped")
        XCTAssertEqual(printed.last, "\(folder)/d_text.so: not a shared library (no ELF header)")
        XCTAssertEqual(registry.strategy("test.plain")?.file, folder + "/a_valid.so")
        XCTAssertNotNil(registry.strategy("adam"), "built-ins still load after the bad files")
    }

    func testEarlierSearchEntriesTakePrecedenceOverBuiltins() throws {
        let folder = try TestSupport.temporaryDirectory()
        let shadow = try build("shadow", ["TEST_ID_OVERRIDE=\"gradus.adam\""], in: folder)
        var search = PluginSearch()
        search.environmentPath = nil
        search.paths = [folder]
        search.builtinFolders = [.init(path: TestSupport.buildDirectory, prefix: "libGradusPlugin")]
        let registry = PluginRegistry(search: search)
        XCTAssertEqual(registry.strategy("adam")?.file, shadow)
        XCTAssertTrue(registry.warnings.contains { $0.contains("strategy 'gradus.adam' is already provided by \(shadow); skipped") },
                      registry.warnings.joined(separator: "\n"))
    }

    func testFilesAndFoldersOthersCanWriteAreRefusedUnlessAllowed() throws {
        let folder = try TestSupport.temporaryDirectory()
        let file = try build("open", in: folder)
        chmod(file, 0o666)
        XCTAssertThrowsError(try PluginLoader.load(file)) {
            XCTAssertEqual("\($0)", "refusing file writable by other users (mode 666); fix with chmod go-w, or pass --allow-insecure-plugins")
        }
        XCTAssertNoThrow(try PluginLoader.load(file, checkPermissions: false))
        chmod(file, 0o755)
        chmod(folder, 0o777)
        var search = PluginSearch()
        search.environmentPath = nil
        search.paths = [folder]
        search.builtinFolders = []
        XCTAssertEqual(PluginRegistry(search: search).warnings,
                       ["\(folder): refusing folder writable by other users (mode 777); fix with chmod go-w, or pass --allow-insecure-plugins"])
        search.allowInsecure = true
        XCTAssertNotNil(PluginRegistry(search: search).strategy("test.plain"))
        chmod(folder, 0o700)
    }

    func testMissingPathIsReported() {
        var search = PluginSearch()
        search.environmentPath = "/nonexistent/gradus"
        search.builtinFolders = []
        XCTAssertEqual(PluginRegistry(search: search).warnings, ["/nonexistent/gradus: no such file or folder"])
    }

    func testSwiftKitNegotiation() throws {
        // The Swift kit answers min(host minor, its minor) and refuses other majors and short requests.
        let file = TestSupport.buildDirectory + "/libGradusPluginSGD.so"
        let handle = try XCTUnwrap(dlopen(file, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE))
        let entry = unsafeBitCast(try XCTUnwrap(dlsym(handle, GRADUS_ENTRY_V1_SYMBOL)), to: gradus_entry_v1_fn.self)
        var request = gradus_entry_request()
        ABIWrite.header(&request)
        request.abi_major = 1
        request.abi_minor = 9
        request.services = HostServices.table
        var response = gradus_entry_response()
        ABIWrite.header(&response)
        XCTAssertEqual(entry(&request, &response), GRADUS_OK)
        XCTAssertEqual(response.abi_minor, 2, "a newer host gets the plugin's minor")
        XCTAssertNotNil(response.library)
        request.abi_major = 2
        XCTAssertEqual(entry(&request, &response), GRADUS_ERR_VERSION)
        request.abi_major = 1
        request.struct_size = 8
        XCTAssertEqual(entry(&request, &response), GRADUS_ERR_VERSION, "a request shorter than ABI 1.0 is refused")
    }
}
