import Glibc

/// Element-wise kernels with NumPy broadcasting, and reductions.
extension Tensor {
    /// The broadcast shape of two shapes, or nil when they do not broadcast.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let x = i < n - a.count ? 1 : a[i - (n - a.count)]
            let y = i < n - b.count ? 1 : b[i - (n - b.count)]
            guard x == y || x == 1 || y == 1 else { return nil }
            out[i] = max(x, y)
        }
        return out
    }

    /// Element strides of `shape` seen as broadcast to `target` (0 on broadcast axes).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: target.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            let t = i + target.count - shape.count
            strides[t] = shape[i] == 1 ? 0 : s
            s *= shape[i]
        }
        return strides
    }

    /// Applies `op` element-wise after broadcasting.
    @inline(__always)
    public static func zipWith(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape {
            var out = Tensor.uninitialized(a.shape)
            let n = a.count
            a.withUnsafeBuffer { x in b.withUnsafeBuffer { y in out.withUnsafeMutableBuffer { o in
                for i in 0..<n { o[i] = op(x[i], y[i]) } } } }
            return out
        }
        guard let shape = broadcastShape(a.shape, b.shape) else {
            preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        var out = Tensor.uninitialized(shape)
        if b.count == 1 {
            let s = b.storage.pointer[0]
            if a.shape == shape {
                a.withUnsafeBuffer { x in out.withUnsafeMutableBuffer { o in for i in 0..<x.count { o[i] = op(x[i], s) } } }
                return out
            }
        }
        if a.count == 1, b.shape == shape {
            let s = a.storage.pointer[0]
            b.withUnsafeBuffer { y in out.withUnsafeMutableBuffer { o in for i in 0..<y.count { o[i] = op(s, y[i]) } } }
            return out
        }
        // Row broadcast: a is [..., n] and b is [n] (bias add), or the other way round.
        if a.shape == shape, let last = shape.last, b.count == last, b.shape.dropLast().allSatisfy({ $0 == 1 }) {
            a.withUnsafeBuffer { x in b.withUnsafeBuffer { y in out.withUnsafeMutableBuffer { o in
                var i = 0
                while i < x.count { for j in 0..<last { o[i + j] = op(x[i + j], y[j]) }; i += last } } } }
            return out
        }
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        let rank = shape.count
        var index = [Int](repeating: 0, count: rank)
        a.withUnsafeBuffer { x in b.withUnsafeBuffer { y in out.withUnsafeMutableBuffer { o in
            var ia = 0, ib = 0
            for k in 0..<o.count {
                o[k] = op(x[ia], y[ib])
                var d = rank - 1
                while d >= 0 {
                    index[d] += 1; ia += sa[d]; ib += sb[d]
                    if index[d] < shape[d] { break }
                    ia -= sa[d] * shape[d]; ib -= sb[d] * shape[d]; index[d] = 0
                    d -= 1
                }
            }
        } } }
        return out
    }

    /// Applies `op` to every element.
    @inline(__always)
    public func map(_ op: (Float) -> Float) -> Tensor {
        var out = Tensor.uninitialized(shape)
        withUnsafeBuffer { x in out.withUnsafeMutableBuffer { o in for i in 0..<x.count { o[i] = op(x[i]) } } }
        return out
    }

    /// Copies this tensor broadcast to `target`.
    public func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        return Tensor.zipWith(Tensor(shape: target, repeating: 0), self) { _, y in y }
    }

    /// Sums over broadcast axes so that the result has `target` shape (the adjoint of `broadcast`).
    public func sum(to target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(Tensor.broadcastShape(target, shape) == shape, "cannot sum \(shape) to \(target)")
        var out = Tensor(shape: target, repeating: 0)
        // Fast path: sum over leading rows ([n, m] -> [m]).
        if let last = shape.last, target.reduce(1, *) == last, target.last == last || target.isEmpty && last == 1 {
            withUnsafeBuffer { x in out.withUnsafeMutableBuffer { o in
                var i = 0
                while i < x.count { for j in 0..<last { o[j] += x[i + j] }; i += last } } }
            return out
        }
        let strides = Tensor.broadcastStrides(target, to: shape)
        let rank = shape.count
        var index = [Int](repeating: 0, count: rank)
        withUnsafeBuffer { x in out.withUnsafeMutableBuffer { o in
            var io = 0
            for k in 0..<x.count {
                o[io] += x[k]
                var d = rank - 1
                while d >= 0 {
                    index[d] += 1; io += strides[d]
                    if index[d] < shape[d] { break }
                    io -= strides[d] * shape[d]; index[d] = 0
                    d -= 1
                }
            }
        } }
        return out
    }

    /// Whether no element is NaN or ±Inf (an integer max over the exponent bits, so it vectorises).
    public var isFinite: Bool {
        withUnsafeBuffer { x in
            x.withMemoryRebound(to: UInt32.self) { bits in
                var worst: UInt32 = 0
                for b in bits { worst = Swift.max(worst, b & 0x7F80_0000) }
                return worst != 0x7F80_0000
            }
        }
    }

    /// Copies every element to `destination` (room for `count` floats) in the same pass as the
    /// `isFinite` check; returns whether all were finite.
    public func copyCheckingFinite(to destination: UnsafeMutablePointer<Float>) -> Bool {
        withUnsafeBuffer { x in
            x.withMemoryRebound(to: UInt32.self) { bits in
                destination.withMemoryRebound(to: UInt32.self, capacity: count) { out in
                    var worst: UInt32 = 0
                    for i in 0..<bits.count { let b = bits[i]; out[i] = b; worst = Swift.max(worst, b & 0x7F80_0000) }
                    return worst != 0x7F80_0000
                }
            }
        }
    }

    /// The sum of every element (accumulated in double, in index order).
    public func sumAll() -> Tensor {
        var s = 0.0
        withUnsafeBuffer { x in for v in x { s += Double(v) } }
        return Tensor(Float(s))
    }

    /// Row-wise softmax over the last axis, max-shifted (exponentials and their sum in one pass,
    /// then one scaling pass).
    public func softmaxRows() -> Tensor {
        mapRows { x, o, m in
            var s: Float = 0
            for j in x.indices { let e = expf(x[j] - m); o[j] = e; s += e }
            let inverse = 1 / s
            for j in x.indices { o[j] *= inverse }
        }
    }

    /// Row-wise log-softmax over the last axis, max-shifted.
    public func logSoftmaxRows() -> Tensor {
        mapRows { x, o, m in
            var s: Float = 0
            for j in x.indices { s += expf(x[j] - m) }
            let lse = m + logf(s)
            for j in x.indices { o[j] = x[j] - lse }
        }
    }

    /// A tensor of this shape whose every last-axis row is written by `row` from the same row
    /// here and that row's maximum.
    func mapRows(_ row: (UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>, Float) -> Void) -> Tensor {
        let n = shape.last ?? 1
        var out = Tensor.uninitialized(shape)
        withUnsafeBuffer { x in out.withUnsafeMutableBuffer { o in
            var i = 0
            while i < x.count {
                let input = UnsafeBufferPointer(rebasing: x[i..<(i + n)])
                row(input, UnsafeMutableBufferPointer(rebasing: o[i..<(i + n)]), input.max() ?? -.infinity)
                i += n
            }
        } }
        return out
    }
}
