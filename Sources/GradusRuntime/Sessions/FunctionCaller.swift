import CFFI
import CGradusABI
import Glibc

/// A value passed to or returned from a function plugin.
public enum FFIValue: Equatable, Sendable, CustomStringConvertible {
    case void
    case bool(Bool)
    case i32(Int32), u32(UInt32), i64(Int64), u64(UInt64)
    case f32(Float), f64(Double)
    case str(String)

    public var description: String {
        switch self {
        case .void: return "void"
        case .bool(let v): return v ? "true" : "false"
        case .i32(let v): return String(v)
        case .u32(let v): return String(v)
        case .i64(let v): return String(v)
        case .u64(let v): return String(v)
        case .f32(let v): return "\(v)"
        case .f64(let v): return "\(v)"
        case .str(let v): return v
        }
    }

    /// The value as a double (nil for void and strings).
    public var asDouble: Double? {
        switch self {
        case .bool(let v): return v ? 1 : 0
        case .i32(let v): return Double(v)
        case .u32(let v): return Double(v)
        case .i64(let v): return Double(v)
        case .u64(let v): return Double(v)
        case .f32(let v): return Double(v)
        case .f64(let v): return v
        default: return nil
        }
    }
}

/// Calls a function plugin through libffi, binding its arguments by name.
/// The call interface is prepared once; `call` may then be used many times.
public final class FunctionCaller {
    public let id: String
    /// The plugin's version string.
    public let version: String
    public let signature: FunctionSignature
    private let fn: gradus_generic_fn
    private var cif = ffi_cif()
    private let argTypes: UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>
    /// The crash reporter's name for a call (made once: schedules call every step).
    private let callLabel: UnsafePointer<CChar>

    public init(_ descriptor: StrategyDescriptor) throws {
        guard case let .function(signature, fn, _) = descriptor.vtable else {
            throw GradusError("\(descriptor.id) is a \(descriptor.kind.rawValue), not a function")
        }
        id = descriptor.id
        version = descriptor.version
        self.signature = signature
        self.fn = fn
        callLabel = PluginCall.label(descriptor.id, signature.name)
        let n = signature.arguments.count
        argTypes = .allocate(capacity: max(1, n))
        for (i, a) in signature.arguments.enumerated() { argTypes[i] = FunctionCaller.ffiType(a.type) }
        let status = ffi_prep_cif(&cif, FFI_DEFAULT_ABI, UInt32(n), FunctionCaller.ffiType(signature.returnType), argTypes)
        guard status == FFI_OK else {
            argTypes.deallocate()
            throw GradusError("\(id): libffi could not prepare a call for '\(signature)' (status \(status.rawValue))")
        }
    }

    deinit { argTypes.deallocate() }

    static func ffiType(_ t: FFIValueType) -> UnsafeMutablePointer<ffi_type> {
        switch t {
        case .void: return withUnsafeMutablePointer(to: &ffi_type_void) { $0 }
        case .bool: return withUnsafeMutablePointer(to: &ffi_type_uint8) { $0 }
        case .i32: return withUnsafeMutablePointer(to: &ffi_type_sint32) { $0 }
        case .u32: return withUnsafeMutablePointer(to: &ffi_type_uint32) { $0 }
        case .i64: return withUnsafeMutablePointer(to: &ffi_type_sint64) { $0 }
        case .u64: return withUnsafeMutablePointer(to: &ffi_type_uint64) { $0 }
        case .f32: return withUnsafeMutablePointer(to: &ffi_type_float) { $0 }
        case .f64: return withUnsafeMutablePointer(to: &ffi_type_double) { $0 }
        case .str: return withUnsafeMutablePointer(to: &ffi_type_pointer) { $0 }
        }
    }

    /// Converts configuration text or a number into an argument of type `t`, or says why not.
    static func convert(_ raw: FFIArgument, to t: FFIValueType, name: String, owner: String) throws -> FFIValue {
        func fail(_ expected: String) -> GradusError {
            GradusError("\(owner): argument '\(name)' = \(raw) is not \(expected)")
        }
        let text: String
        switch raw {
        case .value(let v):
            if case .str = t, case .str = v { return v }
            if case .str(let s) = v { text = s } else if let d = v.asDouble { text = formatNumber(d) } else { throw fail("a value") }
        case .text(let s):
            text = s.trimmingWhitespace
        }
        switch t {
        case .void: throw fail("allowed (void)")
        case .bool:
            switch text.lowercased() {
            case "true", "1", "yes", "on": return .bool(true)
            case "false", "0", "no", "off": return .bool(false)
            default: throw fail("a boolean (true or false)")
            }
        case .i32: guard let v = Int32(text) ?? exactInteger(text).flatMap({ Int32(exactly: $0) }) else { throw fail("a 32-bit integer") }; return .i32(v)
        case .u32: guard let v = UInt32(text) ?? exactInteger(text).flatMap({ UInt32(exactly: $0) }) else { throw fail("an unsigned 32-bit integer") }; return .u32(v)
        case .i64: guard let v = Int64(text) ?? exactInteger(text).flatMap({ Int64(exactly: $0) }) else { throw fail("a 64-bit integer") }; return .i64(v)
        case .u64: guard let v = UInt64(text) ?? exactInteger(text).flatMap({ UInt64(exactly: $0) }) else { throw fail("an unsigned 64-bit integer") }; return .u64(v)
        case .f32: guard let v = Float(text) else { throw fail("a number (f32)") }; return .f32(v)
        case .f64: guard let v = Double(text) else { throw fail("a number (f64)") }; return .f64(v)
        case .str: return .str(text)
        }
    }

    /// "100.0" or "1e3" read as an integer when they are whole numbers.
    private static func exactInteger(_ text: String) -> Double? {
        guard let d = Double(text), d.isFinite, d == d.rounded() else { return nil }
        return d
    }

    /// Calls the function with arguments looked up by name in `bindings`.
    /// A missing argument or one of the wrong type is an error naming it.
    public func call(_ bindings: [String: FFIArgument]) throws -> FFIValue {
        var values: [FFIValue] = []
        for a in signature.arguments {
            guard let raw = bindings[a.name] else {
                let given = bindings.keys.sorted().joined(separator: ", ")
                throw GradusError("\(id): missing argument '\(a.name)' (\(a.type.rawValue)) for '\(signature)'; given: \(given.isEmpty ? "none" : given)")
            }
            values.append(try FunctionCaller.convert(raw, to: a.type, name: a.name, owner: id))
        }
        return try call(values: values)
    }

    /// Calls the function with already-typed arguments in signature order.
    public func call(values: [FFIValue]) throws -> FFIValue {
        guard values.count == signature.arguments.count else {
            throw GradusError("\(id): \(values.count) arguments given, '\(signature)' takes \(signature.arguments.count)")
        }
        // One 8-byte-aligned, 16-byte cell per argument; strings are copied for the call.
        let cells = UnsafeMutableRawPointer.allocate(byteCount: max(1, values.count) * 16, alignment: 16)
        let argPointers = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: max(1, values.count))
        var strings: [UnsafeMutablePointer<CChar>] = []
        defer { cells.deallocate(); argPointers.deallocate(); strings.forEach { free($0) } }
        for (i, v) in values.enumerated() {
            let cell = cells + i * 16
            let expected = signature.arguments[i].type
            switch (expected, v) {
            case (.bool, .bool(let x)): cell.storeBytes(of: UInt8(x ? 1 : 0), as: UInt8.self)
            case (.i32, .i32(let x)): cell.storeBytes(of: x, as: Int32.self)
            case (.u32, .u32(let x)): cell.storeBytes(of: x, as: UInt32.self)
            case (.i64, .i64(let x)): cell.storeBytes(of: x, as: Int64.self)
            case (.u64, .u64(let x)): cell.storeBytes(of: x, as: UInt64.self)
            case (.f32, .f32(let x)): cell.storeBytes(of: x, as: Float.self)
            case (.f64, .f64(let x)): cell.storeBytes(of: x, as: Double.self)
            case (.str, .str(let s)):
                let c = strdup(s)!
                strings.append(c)
                cell.storeBytes(of: UnsafePointer(c), as: UnsafePointer<CChar>.self)
            default:
                throw GradusError("\(id): argument '\(signature.arguments[i].name)' = \(v) does not have type \(expected.rawValue)")
            }
            argPointers[i] = cell
        }
        // libffi widens integral returns smaller than a word to ffi_arg.
        var result = (UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &result) { r in
            PluginCall.during(id, signature.name, label: callLabel) { ffi_call(&cif, fn, r.baseAddress, argPointers) }
        }
        return withUnsafeBytes(of: &result) { r -> FFIValue in
            switch signature.returnType {
            case .void: return .void
            case .bool: return .bool(r.load(as: UInt64.self) & 0xFF != 0)
            case .i32: return .i32(Int32(truncatingIfNeeded: r.load(as: Int64.self)))
            case .u32: return .u32(UInt32(truncatingIfNeeded: r.load(as: UInt64.self)))
            case .i64: return .i64(r.load(as: Int64.self))
            case .u64: return .u64(r.load(as: UInt64.self))
            case .f32: return .f32(r.load(as: Float.self))
            case .f64: return .f64(r.load(as: Double.self))
            case .str:
                guard let p = r.load(as: UnsafePointer<CChar>?.self) else { return .str("") }
                return .str(String(cString: p))
            }
        }
    }
}

/// An argument as the run's configuration provides it: text to parse, or a typed value.
public enum FFIArgument: CustomStringConvertible, Sendable {
    case text(String)
    case value(FFIValue)
    public var description: String {
        switch self {
        case .text(let s): return "'\(s)'"
        case .value(let v): return v.description
        }
    }
}
