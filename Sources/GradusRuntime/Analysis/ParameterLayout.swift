import GradusCore
import GradusNN

/// The parameters of a model seen as one flat vector: model order, each tensor row-major. The
/// analyses work on such vectors in double precision and hand float32 tensors to the model.
public struct ParameterLayout: Equatable, Sendable {
    public let shapes: [[Int]]
    /// Elements per parameter.
    public let counts: [Int]
    /// The length of the flat vector (the number of scalar parameters).
    public let dimension: Int

    public init(shapes: [[Int]]) {
        self.shapes = shapes
        counts = shapes.map { $0.reduce(1, *) }
        dimension = counts.reduce(0, +)
    }

    public init(_ parameters: [Parameter]) { self.init(shapes: parameters.map(\.shape)) }

    /// The tensors laid end to end, widened to double.
    public func flatten(_ tensors: [Tensor]) -> [Double] {
        precondition(tensors.map(\.shape) == shapes, "tensors of shapes \(tensors.map(\.shape)), expected \(shapes)")
        var out = [Double](repeating: 0, count: dimension)
        var offset = 0
        for t in tensors {
            t.withUnsafeBuffer { b in for i in 0..<b.count { out[offset + i] = Double(b[i]) } }
            offset += t.count
        }
        return out
    }

    /// The flat vector cut back into tensors of the parameters' shapes, rounded to float32.
    public func tensors(_ flat: [Double]) -> [Tensor] {
        precondition(flat.count == dimension, "a vector of \(flat.count), expected \(dimension)")
        var offset = 0
        return shapes.indices.map { k in
            var t = Tensor(shape: shapes[k], repeating: 0)
            t.withUnsafeMutableBuffer { b in for i in 0..<b.count { b[i] = Float(flat[offset + i]) } }
            offset += counts[k]
            return t
        }
    }
}

/// Small dense vector arithmetic in double precision for the analyses.
enum Vectors {
    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in
            var s = 0.0
            for i in 0..<x.count { s += x[i] * y[i] }
            return s
        } }
    }

    static func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }

    /// a ← a − s·b.
    static func subtract(_ a: inout [Double], _ s: Double, _ b: [Double]) {
        a.withUnsafeMutableBufferPointer { x in b.withUnsafeBufferPointer { y in
            for i in 0..<x.count { x[i] -= s * y[i] }
        } }
    }

    static func scaled(_ a: [Double], _ s: Double) -> [Double] { a.map { $0 * s } }
}
