import GradusCore
import GradusNN

/// The empirical neural tangent kernel of a network on a few inputs (Jacot, Gabriel & Hongler 2018,
/// "Neural Tangent Kernel"; the empirical, finite-width form as in Fort et al. 2020, "Deep learning
/// versus kernel learning"): with J the Jacobian of the logits f_c(x_i) with respect to every
/// parameter θ, Θ_ij = Σ_c ⟨∂f_c(x_i)/∂θ, ∂f_c(x_j)/∂θ⟩, the N×N kernel summed over the output
/// classes. The network runs in eval mode (normalizers on running statistics), so each sample's
/// logits depend on that sample alone. J is built by one backward pass per (sample, class) output
/// and held in float32; the kernel's dot products accumulate in double precision.
public struct TangentKernel: Sendable {
    public let samples: Int
    public let classes: Int
    /// The number of scalar parameters (J's columns).
    public let parameters: Int
    /// Θ, samples × samples, symmetric positive semi-definite.
    public let kernel: [[Double]]
    /// Θ's eigenvalues, descending (`SymmetricEigenvalues`, double precision).
    public let eigenvalues: [Double]
    public var trace: Double { (0..<samples).reduce(0) { $0 + kernel[$1][$1] } }

    /// Refuses a Jacobian of samples·classes rows by `parameters` float32 columns that would take
    /// more than half of `memory` bytes, naming its size.
    public static func checkSize(samples: Int, classes: Int, parameters: Int, memory: Int) throws {
        let bytes = Checked.product([samples, classes, parameters, MemoryLayout<Float>.size])
        guard let bytes, bytes <= memory / 2 else {
            let size = bytes.map { "\($0 >> 20) MiB" } ?? "more bytes than can be counted"
            throw GradusError("ntk: the Jacobian of \(samples) samples × \(classes) classes by \(parameters) parameters needs \(size) of float32, more than half of this machine's \(memory >> 20) MiB; expected fewer samples")
        }
    }

    /// The Jacobian of `model`'s logits on the rows of `x` with respect to its parameters: row
    /// i·classes + c holds ∂f_c(x_i)/∂θ flattened in `ParameterLayout` order.
    public static func jacobian(_ model: Sequential, inputs x: Tensor) throws -> (rows: Int, classes: Int, columns: Int, values: [Float]) {
        let layout = ParameterLayout(model.parameters)
        let bindings = ParameterBindings(model.parameters)
        let logits = try GradMode.with(recording: true) { try model.forward(Variable(x), bindings, mode: .eval) }
        let (n, c) = (logits.shape[0], logits.shape[1])
        try checkSize(samples: n, classes: c, parameters: layout.dimension, memory: Checked.physicalMemory)
        var values = [Float](repeating: 0, count: n * c * layout.dimension)
        for i in 0..<n {
            for k in 0..<c {
                var seed = Tensor(shape: [n, c], repeating: 0)
                seed[flat: i * c + k] = 1
                _ = Autodiff.takeFailure()
                let grads = Autodiff.gradients(of: logits, wrt: bindings.variables, seed: Variable(seed))
                if let error = Autodiff.takeFailure() { throw error }
                var offset = (i * c + k) * layout.dimension
                for g in grads {
                    g.value.withUnsafeBuffer { b in for j in 0..<b.count { values[offset + j] = b[j] } }
                    offset += g.value.count
                }
            }
        }
        return (n, c, layout.dimension, values)
    }

    /// The kernel of `model` on the rows of `x`.
    public static func compute(_ model: Sequential, inputs x: Tensor) throws -> TangentKernel {
        let j = try jacobian(model, inputs: x)
        let (n, c, p) = (j.rows, j.classes, j.columns)
        var kernel = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        j.values.withUnsafeBufferPointer { v in
            for a in 0..<n {
                for b in a..<n {
                    var s = 0.0
                    for k in 0..<c {
                        let ra = v.baseAddress! + (a * c + k) * p, rb = v.baseAddress! + (b * c + k) * p
                        for q in 0..<p { s += Double(ra[q]) * Double(rb[q]) }
                    }
                    kernel[a][b] = s
                    kernel[b][a] = s
                }
            }
        }
        guard kernel.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { throw GradusError("ntk: the kernel holds a non-finite value (the logits' gradients overflow)") }
        return TangentKernel(samples: n, classes: c, parameters: p, kernel: kernel, eigenvalues: SymmetricEigenvalues.of(kernel))
    }

    public var jsonFields: [(String, String)] {
        func list(_ v: [Double]) -> String { JSONText.array(v.map(JSONText.number)) }
        return [("samples", "\(samples)"), ("classes", "\(classes)"), ("parameters", "\(parameters)"),
                ("kernel", JSONText.array(kernel.map(list))), ("eigenvalues", list(eigenvalues)), ("trace", JSONText.number(trace))]
    }
}
