import XCTest
@testable import GradusRuntime
import GradusTestSupport

/// Function plugins through libffi: every argument and return type, binding by name,
/// and clear errors for a missing argument or a value of the wrong type.
final class FunctionCallTests: XCTestCase {
    static var library: LoadedLibrary?

    override class func setUp() {
        super.setUp()
        guard let dir = try? TestSupport.temporaryDirectory(),
              let path = try? TestSupport.fixturePath("test_plugin.c"), let url = Optional(URL(fileURLWithPath: path)),
              let source = try? String(contentsOf: url, encoding: .utf8) else { return }
        try? TestSupport.compileC(source, to: dir + "/functions.so")
        library = try? PluginLoader.load(dir + "/functions.so")
    }

    func caller(_ id: String) throws -> FunctionCaller {
        let lib = try XCTUnwrap(Self.library, "test plugin did not build or load")
        return try FunctionCaller(XCTUnwrap(lib.strategies.first { $0.id == id }))
    }

    func testEveryArgumentAndReturnType() throws {
        XCTAssertEqual(try caller("test.not").call(["b": .text("true")]), .bool(false))
        XCTAssertEqual(try caller("test.not").call(["b": .text("0")]), .bool(true))
        XCTAssertEqual(try caller("test.sub_i32").call(["a": .text("-5"), "b": .text("7")]), .i32(-12))
        XCTAssertEqual(try caller("test.twice_u32").call(["a": .text("2147483648")]), .u32(0))
        XCTAssertEqual(try caller("test.twice_u32").call(["a": .text("21")]), .u32(42))
        XCTAssertEqual(try caller("test.mul_i64").call(["a": .text("3000000000"), "b": .text("-3")]), .i64(-9_000_000_000))
        XCTAssertEqual(try caller("test.inc_u64").call(["a": .text("18446744073709551614")]), .u64(.max))
        XCTAssertEqual(try caller("test.div_f32").call(["a": .text("1"), "b": .text("3")]), .f32(Float(1) / 3))
        XCTAssertEqual(try caller("test.mixed_f64").call(["a": .text("1.5"), "n": .text("4"), "c": .text("0.25"), "flag": .text("yes")]),
                       .f64(6.25))
        XCTAssertEqual(try caller("test.mixed_f64").call(["a": .text("1.5"), "n": .text("4"), "c": .text("0.25"), "flag": .text("false")]),
                       .f64(-1))
        XCTAssertEqual(try caller("test.echo_str").call(["s": .text("ping")]), .str("pong"))
        XCTAssertEqual(try caller("test.store_void").call(["x": .value(.i32(77))]), .void)
        XCTAssertEqual(try caller("test.read_void").call([:]), .i32(77))
    }

    func testTypedValuesConvertWhenExact() throws {
        XCTAssertEqual(try caller("test.mul_i64").call(["a": .value(.f64(6)), "b": .value(.i32(7))]), .i64(42))
        XCTAssertThrowsError(try caller("test.mul_i64").call(["a": .value(.f64(6.5)), "b": .value(.i32(7))])) {
            XCTAssertEqual("\($0)", "test.mul_i64: argument 'a' = 6.5 is not a 64-bit integer")
        }
    }

    func testMissingArgumentNamesItAndTheSignature() throws {
        XCTAssertThrowsError(try caller("test.mixed_f64").call(["a": .text("1"), "c": .text("2"), "flag": .text("true")])) {
            XCTAssertEqual("\($0)", "test.mixed_f64: missing argument 'n' (i64) for 'f64 mixed(f64 a, i64 n, f32 c, bool flag)'; given: a, c, flag")
        }
    }

    func testTypeMismatchNamesArgumentValueAndType() throws {
        XCTAssertThrowsError(try caller("test.sub_i32").call(["a": .text("1.5"), "b": .text("1")])) {
            XCTAssertEqual("\($0)", "test.sub_i32: argument 'a' = '1.5' is not a 32-bit integer")
        }
        XCTAssertThrowsError(try caller("test.sub_i32").call(["a": .text("9999999999"), "b": .text("1")])) {
            XCTAssertEqual("\($0)", "test.sub_i32: argument 'a' = '9999999999' is not a 32-bit integer")
        }
        XCTAssertThrowsError(try caller("test.not").call(["b": .text("maybe")])) {
            XCTAssertEqual("\($0)", "test.not: argument 'b' = 'maybe' is not a boolean (true or false)")
        }
        XCTAssertThrowsError(try caller("test.div_f32").call(values: [.f64(1), .f32(2)])) {
            XCTAssertEqual("\($0)", "test.div_f32: argument 'a' = 1.0 does not have type f32")
        }
    }

    func testSignatureGrammar() throws {
        let s = try FunctionSignature(parsing: " f64  cosine_warmup( i64 step,i64 total_steps , f64 base ) ")
        XCTAssertEqual(s.description, "f64 cosine_warmup(i64 step, i64 total_steps, f64 base)")
        XCTAssertEqual(try FunctionSignature(parsing: "void tick(void)").arguments.count, 0)
        for (bad, why) in [("f64 f(i64 a, i64 a)", "argument 'a' appears twice"), ("f64 f(void x)", "unknown argument type 'void'"),
                           ("double f()", "unknown return type 'double' (expected one of void, bool, i32, u32, i64, u64, f32, f64, str)"),
                           ("f64 f(i64)", "argument 'i64' should be 'type name'"), ("f64 f", "expected 'type name(type arg, ...)'"),
                           ("f64 9f()", "'9f' is not a valid function name")] {
            XCTAssertThrowsError(try FunctionSignature(parsing: bad), bad) { XCTAssertEqual("\($0)", why, bad) }
        }
    }

    func testBuiltinSchedules() throws {
        let registry = TestSupport.builtinRegistry()
        func value(_ id: String, _ args: [String: String]) throws -> Double {
            try XCTUnwrap(FunctionCaller(registry.require(id, kind: .function)).call(args.mapValues { .text($0) }).asDouble)
        }
        XCTAssertEqual(try value("constant", ["base": "0.3"]), 0.3)
        XCTAssertEqual(try value("step", ["step": "29", "base": "1", "step_size": "10", "gamma": "0.5"]), 0.25)
        XCTAssertTrue(try value("step", ["step": "1", "base": "1", "step_size": "0", "gamma": "0.5"]).isNaN)
        XCTAssertEqual(try value("exponential", ["step": "3", "base": "2", "gamma": "0.5"]), 0.25)
        let cos: ([String: String]) throws -> Double = { try value("cosine_warmup", $0) }
        let base = ["total_steps": "110", "warmup_steps": "10", "base": "1", "floor": "0.1"]
        XCTAssertEqual(try cos(base.merging(["step": "0"]) { $1 }), 0)
        XCTAssertEqual(try cos(base.merging(["step": "5"]) { $1 }), 0.5)
        XCTAssertEqual(try cos(base.merging(["step": "10"]) { $1 }), 1)
        XCTAssertEqual(try cos(base.merging(["step": "60"]) { $1 }), 0.55, accuracy: 1e-12)
        XCTAssertEqual(try cos(base.merging(["step": "110"]) { $1 }), 0.1, accuracy: 1e-12)
        XCTAssertEqual(try cos(base.merging(["step": "500"]) { $1 }), 0.1, accuracy: 1e-12)
    }
}
