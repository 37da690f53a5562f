@_exported import GradusABITypes
import GradusCore

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
