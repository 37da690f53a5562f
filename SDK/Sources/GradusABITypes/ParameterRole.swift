import CGradusABI

/// What a parameter is for (optimizers and pruners route on it, never on names), with the C
/// ABI's numbers (`GRADUS_ROLE_*` in gradus/types.h). The one definition: the host's models and
/// the Swift plugin kit both use this module (each plugin links its own copy; only the numbers
/// cross the ABI).
public struct ParameterRole: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let unknown = ParameterRole(rawValue: GRADUS_ROLE_UNKNOWN)
    /// A dense or convolution weight, stored (out, in, ...).
    public static let matrix = ParameterRole(rawValue: GRADUS_ROLE_MATRIX)
    public static let bias = ParameterRole(rawValue: GRADUS_ROLE_BIAS)
    public static let normGain = ParameterRole(rawValue: GRADUS_ROLE_NORM_GAIN)
    public static let normBias = ParameterRole(rawValue: GRADUS_ROLE_NORM_BIAS)
    public static let embedding = ParameterRole(rawValue: GRADUS_ROLE_EMBEDDING)
    /// The output layer's weight.
    public static let head = ParameterRole(rawValue: GRADUS_ROLE_HEAD)
    /// Any other 1-D or scalar parameter.
    public static let vector = ParameterRole(rawValue: GRADUS_ROLE_VECTOR)

    public var description: String {
        let names: [Int32: String] = [GRADUS_ROLE_UNKNOWN: "unknown", GRADUS_ROLE_MATRIX: "matrix", GRADUS_ROLE_BIAS: "bias",
                                      GRADUS_ROLE_NORM_GAIN: "norm_gain", GRADUS_ROLE_NORM_BIAS: "norm_bias",
                                      GRADUS_ROLE_EMBEDDING: "embedding", GRADUS_ROLE_HEAD: "head", GRADUS_ROLE_VECTOR: "vector"]
        return names[rawValue] ?? "role \(rawValue)"
    }
}
