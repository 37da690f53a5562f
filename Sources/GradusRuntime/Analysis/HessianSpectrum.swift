import GradusCore

/// A Hessian seen through its products v ↦ H·v on flat double vectors (autodiff underneath).
public struct HessianOperator {
    public let dimension: Int
    public let apply: ([Double]) throws -> [Double]

    public init(dimension: Int, apply: @escaping ([Double]) throws -> [Double]) {
        self.dimension = dimension
        self.apply = apply
    }

    /// The Hessian of a model's mean loss on its rows, at the model's current parameters.
    public static func loss(_ objective: ModelObjective) -> HessianOperator {
        HessianOperator(dimension: objective.layout.dimension) { try objective.hessianVectorProduct($0) }
    }

    /// The Hessian of a test function at `point`.
    public static func function(_ f: TestFunction, at point: [Float]) -> HessianOperator {
        HessianOperator(dimension: point.count) { v in f.hessianVectorProduct(at: point, v.map(Float.init)).map(Double.init) }
    }
}

/// The top of a Hessian's spectrum (Lanczos with full reorthogonalisation, see `Lanczos`) and,
/// when asked, Hutchinson's estimate of its trace: the quantities of Ghorbani et al. 2019 ("An
/// Investigation into Neural Net Optimization via Hessian Eigenvalue Density") and Yao et al. 2020
/// ("PyHessian: Neural Networks Through the Lens of the Hessian").
public struct HessianSpectrum: Sendable {
    /// The largest eigenvalues (algebraically: a negative one counts below every positive one), descending.
    public let eigenvalues: [Double]
    /// Lanczos iterations done (Hessian-vector products spent on the eigenvalues).
    public let iterations: Int
    /// The number of scalar parameters (the Hessian's order).
    public let dimension: Int
    public let trace: TraceEstimate?
    /// How far the reported eigenvalues still moved over the last tenth of the iterations: the
    /// largest |θᵢ(m) − θᵢ(m − d)| / |θᵢ(m)| over the top Ritz values, d = max(1, m/10); 0 when
    /// the iteration spanned the whole space (the values are then exact up to rounding).
    public let ritzChange: Double

    /// Above this `ritzChange` the values are reported as not converged.
    public static let convergenceTolerance = 1e-3

    /// The default iteration count for `top` eigenvalues: min(n, max(4·top + 20, 60)).
    public static func defaultIterations(top: Int, dimension: Int) -> Int { min(dimension, max(4 * top + 20, 60)) }

    /// The `top` largest eigenvalues of `hessian` after `iterations` Lanczos steps (the default when
    /// nil), and with `traceProbes` Hutchinson's trace estimate; both seeded by `seed`. Refuses
    /// counts outside 1...n and a Lanczos basis larger than half of this machine's memory.
    public static func compute(_ hessian: HessianOperator, top: Int, iterations: Int? = nil, traceProbes: Int? = nil,
                               seed: UInt64 = 0) throws -> HessianSpectrum {
        let n = hessian.dimension
        let m = iterations ?? defaultIterations(top: top, dimension: n)
        guard (1...n).contains(top) else { throw GradusError("top \(top): expected 1...\(n) (the number of parameters)") }
        guard (top...n).contains(m) else { throw GradusError("iterations \(m): expected \(top)...\(n) (at least top, at most the number of parameters)") }
        let memory = Checked.physicalMemory
        guard let bytes = Lanczos.basisBytes(dimension: n, iterations: m), bytes <= memory / 2 else {
            throw GradusError("\(m) Lanczos iterations over \(n) parameters keep \(m)×\(n) doubles, more than half of this machine's \(memory >> 20) MiB of memory; expected fewer iterations")
        }
        let lanczos = try Lanczos.run(dimension: n, iterations: m, seed: seed, apply: hessian.apply)
        let trace = try traceProbes.map { try TraceEstimate.hutchinson(dimension: n, probes: $0, seed: seed, apply: hessian.apply) }
        let values = Array(lanczos.ritzValues.prefix(top))
        var change = 0.0
        if lanczos.iterations < n {
            let d = max(1, lanczos.iterations / 10), k = lanczos.iterations - d
            let earlier = SymmetricTridiagonal.eigenvalues(diagonal: Array(lanczos.diagonal.prefix(k)), offDiagonal: Array(lanczos.offDiagonal.prefix(max(0, k - 1))))
            for (i, v) in values.enumerated() {
                change = max(change, i < earlier.count ? abs(v - earlier[i]) / max(abs(v), 1e-30) : .infinity)
            }
        }
        return HessianSpectrum(eigenvalues: values, iterations: lanczos.iterations, dimension: n, trace: trace, ritzChange: change)
    }

    /// JSON fields: parameters, iterations, eigenvalues and, with a trace, trace, trace_standard_error,
    /// probes. Eigenvalues and the trace are printed to 6 significant digits: they come from
    /// float32 Hessian-vector products, so further digits would be rounding noise (the quadratic's
    /// 9.9999995 is printed 10).
    public var jsonFields: [(String, String)] {
        func significant(_ v: Double) -> String { JSONText.number(v.isFinite ? Double(String(format: "%.6g", v)) ?? v : v) }
        var fields = [("parameters", "\(dimension)"), ("iterations", "\(iterations)"),
                      ("eigenvalues", JSONText.array(eigenvalues.map(significant))), ("ritz_change", JSONText.number(Double(String(format: "%.3g", ritzChange)) ?? ritzChange))]
        if let trace {
            fields += [("trace", significant(trace.estimate)),
                       ("trace_standard_error", trace.standardError.map(JSONText.number) ?? "null"),
                       ("probes", "\(trace.probes)")]
        }
        return fields
    }
}
