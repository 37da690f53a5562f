import CGradusABI
import GradusCore
import GradusNN

/// A float32 buffer the host owns, with a C tensor view onto it that stays valid
/// as long as this object lives (so the view is built once, not per call).
public final class HostTensor {
    public let shape: [Int]
    /// The memory, possibly shared with a `Tensor` of the model.
    public let backing: TensorStorage
    public var storage: UnsafeMutableBufferPointer<Float> { backing.buffer }
    private let dims: UnsafeMutablePointer<Int64>
    private let strides: UnsafeMutablePointer<Int64>
    /// The C view; borrowed by plugins during calls.
    public let view: UnsafeMutablePointer<gradus_tensor_view>

    public convenience init(shape: [Int], repeating value: Float = 0, readOnly: Bool = false) {
        self.init(shape: shape, backing: TensorStorage(count: shape.reduce(1, *), repeating: value), readOnly: readOnly)
    }

    /// A view over existing storage (shared, not copied).
    public init(shape: [Int], backing: TensorStorage, readOnly: Bool = false) {
        precondition(backing.count == shape.reduce(1, *), "storage of \(backing.count) for shape \(shape)")
        self.shape = shape
        self.backing = backing
        let count = backing.count
        dims = .allocate(capacity: max(shape.count, 1))
        strides = .allocate(capacity: max(shape.count, 1))
        var s = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            dims[axis] = Int64(shape[axis])
            strides[axis] = Int64(s)
            s *= shape[axis]
        }
        var v = gradus_tensor_view()
        ABIWrite.header(&v)
        v.data = backing.pointer
        v.shape = shape.isEmpty ? nil : UnsafePointer(dims)
        v.strides = shape.isEmpty ? nil : UnsafePointer(strides)
        v.count = Int64(count)
        v.ndim = Int32(shape.count)
        v.flags = UInt32(GRADUS_TENSOR_CONTIGUOUS) | (readOnly ? UInt32(GRADUS_TENSOR_READ_ONLY) : 0)
        view = .allocate(capacity: 1)
        view.initialize(to: v)
    }

    public convenience init(shape: [Int], values: [Float], readOnly: Bool = false) {
        precondition(values.count == shape.reduce(1, *), "values do not match shape \(shape)")
        self.init(shape: shape, readOnly: readOnly)
        for (i, v) in values.enumerated() { storage[i] = v }
    }

    deinit {
        dims.deallocate()
        strides.deallocate()
        view.deallocate()
    }

    public var count: Int { storage.count }
    public var values: [Float] {
        get { Array(storage) }
        set {
            precondition(newValue.count == storage.count)
            for (i, v) in newValue.enumerated() { storage[i] = v }
        }
    }
}


/// A named parameter with its value and gradient.
public final class HostParameter {
    public let name: String
    public let role: ParameterRole
    public let value: HostTensor
    public let grad: HostTensor
    public init(name: String, role: ParameterRole, shape: [Int], values: [Float]? = nil) {
        self.name = name
        self.role = role
        value = values.map { HostTensor(shape: shape, values: $0) } ?? HostTensor(shape: shape)
        grad = HostTensor(shape: shape)
    }

    /// A parameter whose values live in `storage` (shared with the model's tensors).
    public init(name: String, role: ParameterRole, shape: [Int], storage: TensorStorage) {
        self.name = name
        self.role = role
        value = HostTensor(shape: shape, backing: storage)
        grad = HostTensor(shape: shape)
    }
}
