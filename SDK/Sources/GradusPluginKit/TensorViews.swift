import CGradusABI
import GradusKitMath

/// √x without libm's errno side effect, so inner loops that use it vectorise
/// (`Float.squareRoot()` does not on Linux). Keep such loops free of branches too.
@inlinable @inline(__always)
public func fastSqrt(_ x: Float) -> Float { gradus_kit_sqrtf(x) }

/// A borrowed float32 tensor handed to a plugin: valid only during the call.
public struct TensorView {
    /// The elements, row-major (the kit only passes contiguous views to Swift code).
    public let elements: UnsafeMutableBufferPointer<Float>
    /// The shape; empty for a scalar.
    public let shape: [Int]

    init(_ view: UnsafePointer<gradus_tensor_view>) throws {
        let v = view.pointee
        let ndim = Int(v.ndim)
        var shape: [Int] = []
        shape.reserveCapacity(ndim)
        if ndim > 0, let s = v.shape { for i in 0..<ndim { shape.append(Int(s[i])) } }
        if ndim > 0, v.flags & UInt32(GRADUS_TENSOR_CONTIGUOUS) == 0, let strides = v.strides {
            var expected = 1
            for axis in stride(from: ndim - 1, through: 0, by: -1) {
                if shape[axis] > 1 && Int(strides[axis]) != expected {
                    throw PluginError.unsupported("non-contiguous tensor views are not supported by the Swift kit")
                }
                expected *= shape[axis]
            }
        }
        self.shape = shape
        self.elements = UnsafeMutableBufferPointer(start: v.data, count: Int(v.count))
    }

    /// The number of elements.
    public var count: Int { elements.count }
    public subscript(i: Int) -> Float {
        get { elements[i] }
        nonmutating set { elements[i] = newValue }
    }
}

/// Role of a parameter (`GRADUS_ROLE_*`).
/// What a parameter is, with the C ABI's numbers (`GRADUS_ROLE_*` in gradus/types.h) (the host passes them in each parameter's `role`).
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
