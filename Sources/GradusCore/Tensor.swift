/// Heap memory for tensor elements, 64-byte aligned. Shared between tensors until one of
/// them is mutated (copy-on-write), and between a parameter and the C views handed to plugins.
public final class TensorStorage {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(1, count))
    }

    public convenience init(count: Int, repeating value: Float) {
        self.init(count: count)
        pointer.initialize(repeating: value, count: count)
    }

    public convenience init(copying source: UnsafePointer<Float>, count: Int) {
        self.init(count: count)
        pointer.initialize(from: source, count: count)
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
}

/// A row-major float32 tensor with value semantics (copy-on-write storage).
public struct Tensor: CustomStringConvertible {
    public private(set) var shape: [Int]
    public private(set) var storage: TensorStorage

    /// A tensor of `shape` filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *), repeating: value)
    }

    /// A tensor of `shape` holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Float]) {
        precondition(scalars.count == shape.reduce(1, *), "\(scalars.count) values for shape \(shape)")
        self.shape = shape
        storage = scalars.withUnsafeBufferPointer { TensorStorage(copying: $0.baseAddress!, count: scalars.count) }
    }

    /// A rank-0 tensor.
    public init(_ scalar: Float) { self.init(shape: [], scalars: [scalar]) }

    /// A tensor over existing storage (shared, not copied).
    public init(shape: [Int], storage: TensorStorage) {
        precondition(storage.count == shape.reduce(1, *), "storage of \(storage.count) for shape \(shape)")
        self.shape = shape
        self.storage = storage
    }

    /// Uninitialised elements, for kernels that write every element.
    static func uninitialized(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(count: shape.reduce(1, *)))
    }

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    public var scalars: [Float] { Array(storage.buffer) }
    /// The only element of a one-element tensor.
    public var scalar: Float { precondition(count == 1); return storage.pointer[0] }

    public var description: String { "Tensor(\(shape), \(scalars.prefix(8))\(count > 8 ? "…" : ""))" }

    /// Read access to the elements.
    @inline(__always)
    public func withUnsafeBuffer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(storage.buffer))
    }

    /// Write access; copies the storage first if another tensor shares it.
    @inline(__always)
    public mutating func withUnsafeMutableBuffer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) { storage = TensorStorage(copying: storage.pointer, count: storage.count) }
        return try body(storage.buffer)
    }

    /// Copies every element to `destination`, which must hold `count` floats.
    public func copy(to destination: UnsafeMutablePointer<Float>) {
        destination.update(from: storage.pointer, count: count)
    }

    /// The same elements with another shape of equal size (storage shared).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: newShape, storage: storage)
    }

    public subscript(flat i: Int) -> Float {
        get { storage.pointer[i] }
        set { withUnsafeMutableBuffer { $0[i] = newValue } }
    }

    /// Bitwise equality of shape and elements.
    public func bitwiseEqual(_ other: Tensor) -> Bool {
        shape == other.shape && withUnsafeBuffer { a in other.withUnsafeBuffer { b in
            zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern } } }
    }
}
