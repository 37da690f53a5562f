import CGradusABI

/// A plain C function published as a strategy; the host calls it through libffi.
///
/// ```swift
/// let cosine: @convention(c) (Int64, Int64, Double, Double) -> Double = { step, total, base, floor in ... }
/// .function(FunctionPlugin(info: ..., signature: "f64 cosine(i64 step, i64 total_steps, f64 base, f64 floor)",
///                          function: unsafeBitCast(cosine, to: gradus_generic_fn.self), purpose: .schedule))
/// ```
/// The signature must describe the function exactly; the host trusts it.
public struct FunctionPlugin {
    public struct Purpose: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let schedule = Purpose(rawValue: UInt32(GRADUS_FUNCTION_SCHEDULE))
        public static let initializer = Purpose(rawValue: UInt32(GRADUS_FUNCTION_INITIALIZER))
        public static let metric = Purpose(rawValue: UInt32(GRADUS_FUNCTION_METRIC))
    }

    public let info: StrategyInfo
    public let signature: String
    public let function: gradus_generic_fn
    public let purpose: Purpose

    public init(info: StrategyInfo, signature: String, function: gradus_generic_fn, purpose: Purpose) {
        self.info = info; self.signature = signature; self.function = function; self.purpose = purpose
    }

    func makeVTable() -> UnsafePointer<gradus_function_vtable> {
        var v = gradus_function_vtable()
        v.struct_size = abiSize(gradus_function_vtable.self)
        v.abi_minor = UInt32(GRADUS_ABI_MINOR)
        v.signature = Permanent.cString(signature)
        v.fn = function
        v.purpose = purpose.rawValue
        return UnsafePointer(Permanent.value(v))
    }
}
