import GradusPluginKit

/// The quintic Newton–Schulz iteration of Muon in float32: X ← U/max(‖U‖_F, ε) (transposed to be
/// wide), then `steps` times A = XXᵀ, B = b·A + c·A², X ← a·X + B·X, transposed back. Its result is
/// close to the polar factor U(UᵀU)^(−1/2); with the default coefficients the singular values land
/// in a band around 1 rather than exactly on it. torch's CPU reference runs the same iteration in
/// bfloat16; Gradus keeps float32 (the golden fixtures patch the reference accordingly).
struct NewtonSchulz {
    var a: Float, b: Float, c: Float, steps: Int, eps: Float
    /// Whether to divide the input by max(‖U‖_F, ε) first (callers that normalize their own way say no).
    var normalizesInput = true

    /// The orthogonalized `rows`×`cols` matrix `u` (row-major).
    func callAsFunction(_ u: [Float], rows: Int, cols: Int, _ la: LinearAlgebra) throws -> [Float] {
        let tall = rows > cols, m = min(rows, cols), n = max(rows, cols)
        var x = tall ? Self.transpose(u, rows: rows, cols: cols) : u
        if normalizesInput {
            let scale = max(Self.norm(x), eps)
            for i in x.indices { x[i] /= scale }
        }
        var gram = [Float](repeating: 0, count: m * m), square = gram, product = x
        for _ in 0..<steps {
            try la.gemm(x, x, transposeB: true, into: &gram, m: m, n: m, k: n)
            try la.gemm(gram, gram, into: &square, m: m, n: m, k: m)
            for i in gram.indices { gram[i] = b * gram[i] + c * square[i] }
            try la.gemm(gram, x, into: &product, m: m, n: n, k: m)
            for i in x.indices { x[i] = a * x[i] + product[i] }
        }
        return tall ? Self.transpose(x, rows: m, cols: n) : x
    }

    static func transpose(_ x: [Float], rows: Int, cols: Int) -> [Float] {
        var t = [Float](repeating: 0, count: x.count)
        for i in 0..<rows { for j in 0..<cols { t[j * rows + i] = x[i * cols + j] } }
        return t
    }

    /// The Frobenius norm, accumulated in double and rounded once.
    static func norm<C: Collection>(_ x: C) -> Float where C.Element == Float {
        Float(x.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
    }
}

extension Parameter {
    /// The matrix view (rows = the first axis, columns = the rest), as MATRIX_ONLY optimizers see it.
    var matrixShape: (rows: Int, cols: Int) {
        let s = shape
        return (s.first ?? 1, s.dropFirst().reduce(1, *))
    }
}
