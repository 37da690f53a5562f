import Foundation

/// A fixed index map from a source shape to an output shape: output element i is source
/// element `indices[i]`, or 0 where the index is negative (padding). Permutations, im2col
/// and pooling windows are all index maps; the same map read backwards (scatter-add) is
/// the adjoint, so one pair of linear ops serves every order of differentiation.
public final class IndexMap: @unchecked Sendable {
    public let sourceShape: [Int]
    public let outputShape: [Int]
    public let indices: [Int32]

    public init(sourceShape: [Int], outputShape: [Int], indices: [Int32]) {
        precondition(indices.count == outputShape.reduce(1, *), "\(indices.count) indices for output shape \(outputShape)")
        precondition(sourceShape.reduce(1, *) <= Int(Int32.max), "source too large for 32-bit indices")
        self.sourceShape = sourceShape
        self.outputShape = outputShape
        self.indices = indices
    }

    /// Axis permutation: output axis k is source axis `order[k]`.
    public static func permutation(_ shape: [Int], _ order: [Int]) -> IndexMap {
        precondition(order.sorted() == Array(0..<shape.count), "\(order) is not a permutation of \(shape.count) axes")
        return cached("perm \(shape) \(order)") {
            let out = order.map { shape[$0] }
            var sourceStrides = [Int](repeating: 1, count: shape.count)
            for d in stride(from: shape.count - 2, through: 0, by: -1) { sourceStrides[d] = sourceStrides[d + 1] * shape[d + 1] }
            let strides = order.map { sourceStrides[$0] }
            var indices = [Int32](repeating: 0, count: out.reduce(1, *))
            var index = [Int](repeating: 0, count: out.count)
            var src = 0
            for i in 0..<indices.count {
                indices[i] = Int32(src)
                var d = out.count - 1
                while d >= 0 {
                    index[d] += 1; src += strides[d]
                    if index[d] < out[d] { break }
                    src -= strides[d] * out[d]; index[d] = 0
                    d -= 1
                }
            }
            return IndexMap(sourceShape: shape, outputShape: out, indices: indices)
        }
    }

    nonisolated(unsafe) private static var cache: [String: IndexMap] = [:]
    private static let lock = NSLock()

    /// Index maps depend only on shapes, so they are built once per geometry (bounded cache).
    static func cached(_ key: String, _ build: () -> IndexMap) -> IndexMap {
        lock.lock()
        if let hit = cache[key] { lock.unlock(); return hit }
        lock.unlock()
        let map = build()
        lock.lock()
        if cache.count > 256 { cache.removeAll() }
        cache[key] = map
        lock.unlock()
        return map
    }
}

extension Tensor {
    /// Reads this tensor through `map` (zeros where the index is negative).
    public func gathered(_ map: IndexMap) -> Tensor {
        precondition(shape.reduce(1, *) == map.sourceShape.reduce(1, *), "gather of \(shape) through a map for \(map.sourceShape)")
        var out = Tensor.uninitialized(map.outputShape)
        withUnsafeBuffer { x in out.withUnsafeMutableBuffer { o in map.indices.withUnsafeBufferPointer { idx in
            for i in 0..<idx.count { let j = Int(idx[i]); o[i] = j >= 0 ? x[j] : 0 }
        } } }
        return out
    }

    /// The adjoint of `gathered`: adds element i to source position `map.indices[i]`.
    public func scatterAdded(_ map: IndexMap) -> Tensor {
        precondition(count == map.indices.count, "scatter of \(shape) through a map for \(map.outputShape)")
        var out = Tensor(shape: map.sourceShape, repeating: 0)
        withUnsafeBuffer { g in out.withUnsafeMutableBuffer { o in map.indices.withUnsafeBufferPointer { idx in
            for i in 0..<idx.count { let j = Int(idx[i]); if j >= 0 { o[j] += g[i] } }
        } } }
        return out
    }
}

extension Variable {
    /// Output element i is element `map.indices[i]` of this variable (0 for negative indices).
    public func gather(_ map: IndexMap) -> Variable {
        Variable.result(value.gathered(map), [self]) { g in [g.scatterAdd(map)] }
    }

    /// The adjoint of `gather`.
    public func scatterAdd(_ map: IndexMap) -> Variable {
        Variable.result(value.scatterAdded(map), [self]) { g in [g.gather(map)] }
    }

    /// Permutes axes: output axis k is axis `order[k]` of this variable.
    public func permuted(_ order: [Int]) -> Variable {
        gather(IndexMap.permutation(shape, order))
    }
}
