import CGradusABI
import GradusCore

/// What a parameter is for; optimizers and pruners route on it (no name matching).
/// What a parameter is, with the C ABI's numbers (`GRADUS_ROLE_*` in gradus/types.h): the one definition the model, the host runtime and the C views handed to plugins share.
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

/// A trainable tensor with a stable name (`layers.0.weight`) and a role. Its storage is
/// shared with every leaf variable made from it and with the C views handed to plugins,
/// so an optimizer plugin updates it in place.
public final class Parameter {
    public let name: String
    public var role: ParameterRole
    public let shape: [Int]
    public let storage: TensorStorage
    /// Whether a pruner may mask it.
    public var prunable: Bool

    public init(name: String, role: ParameterRole, value: Tensor, prunable: Bool = false) {
        self.name = name
        self.role = role
        shape = value.shape
        storage = TensorStorage(copying: value.storage.pointer, count: value.count)
        self.prunable = prunable
    }

    /// The current value (shares storage; do not keep it across optimizer steps).
    public var value: Tensor { Tensor(shape: shape, storage: storage) }

    /// A leaf variable over the current value, for one forward pass.
    public func variable() -> Variable { Variable(value, requiresGrad: true) }
}
