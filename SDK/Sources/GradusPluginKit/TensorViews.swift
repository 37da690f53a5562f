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
