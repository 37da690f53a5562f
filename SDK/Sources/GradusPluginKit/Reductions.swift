/// Sums over a parameter for norms and dot products, in a fixed order (so the same bits for any
/// thread count) and fast: eight float lanes accumulate each block of 1024 elements, and the block
/// sums are added in double. A plain `for` loop with one accumulator runs at one add per latency
/// (the compiler may not reorder floating-point sums); these run at memory speed.
@inlinable
public func sumOfProducts(_ count: Int, _ term: (Int) -> SIMD8<Float>, tail: (Int) -> Float) -> Double {
    var total = 0.0, i = 0
    let vectorEnd = count & ~7
    while i < vectorEnd {
        let blockEnd = min(i + 1024, vectorEnd)
        var lanes = SIMD8<Float>(repeating: 0)
        while i < blockEnd { lanes += term(i); i += 8 }
        total += Double(lanes.sum())
    }
    while i < count { total += Double(tail(i)); i += 1 }
    return total
}

/// Σ x² over a buffer.
@inlinable
public func sumOfSquares(_ x: UnsafeBufferPointer<Float>) -> Double {
    guard let base = x.baseAddress else { return 0 }
    let raw = UnsafeRawPointer(base)
    return sumOfProducts(x.count, { i in
        let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        return v * v
    }, tail: { base[$0] * base[$0] })
}

/// Σ x·y over two buffers of the same length.
@inlinable
public func dotProduct(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Double {
    guard let a = x.baseAddress, let b = y.baseAddress else { return 0 }
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    return sumOfProducts(min(x.count, y.count), { i in
        ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
    }, tail: { a[$0] * b[$0] })
}

/// Σ |x| over a buffer.
@inlinable
public func sumOfMagnitudes(_ x: UnsafeBufferPointer<Float>) -> Double {
    guard let base = x.baseAddress else { return 0 }
    let raw = UnsafeRawPointer(base)
    return sumOfProducts(x.count, { i in
        let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        return v.replacing(with: -v, where: v .< 0)
    }, tail: { abs(base[$0]) })
}

/// Eight consecutive elements at offset `i` as one SIMD vector (for loops that also reduce).
extension UnsafeMutableBufferPointer where Element == Float {
    @inlinable
    public subscript(vector i: Int) -> SIMD8<Float> {
        get { UnsafeRawPointer(baseAddress!).loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) }
        nonmutating set { UnsafeMutableRawPointer(baseAddress!).storeBytes(of: newValue, toByteOffset: i * 4, as: SIMD8<Float>.self) }
    }
}

extension UnsafeBufferPointer where Element == Float {
    @inlinable
    public subscript(vector i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(baseAddress!).loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
    }
}

/// Calls `vector` with offsets 0, 8, 16, … of whole 8-element groups and `scalar` with each
/// remaining index, in order: element-wise loops that also accumulate lane sums.
@inlinable
public func forEachVector(_ count: Int, _ vector: (Int) -> Void, scalar: (Int) -> Void) {
    var i = 0
    let end = count & ~7
    while i < end { vector(i); i += 8 }
    while i < count { scalar(i); i += 1 }
}
