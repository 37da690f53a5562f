import GradusCore

/// Hutchinson's stochastic trace estimator (Hutchinson 1990): tr(A) = E[zᵀAz] for probe vectors z
/// with independent Rademacher (±1) entries, estimated by the mean of zᵀAz over seeded probes, with
/// the standard error of that mean (sample standard deviation / √probes). For a diagonal A every
/// Rademacher probe gives the exact trace, so the error is zero.
public struct TraceEstimate: Sendable {
    public let estimate: Double
    /// nil with a single probe (no spread to measure).
    public let standardError: Double?
    public let probes: Int
    /// zᵀAz of each probe.
    public let samples: [Double]

    /// Estimates tr(A) from `probes` products A·z on vectors of `dimension`.
    public static func hutchinson(dimension n: Int, probes: Int, seed: UInt64,
                                  apply: ([Double]) throws -> [Double]) throws -> TraceEstimate {
        precondition(n >= 1 && probes >= 1, "Hutchinson's estimator needs a dimension and a probe count of at least 1")
        var rng = RandomStream(seed: seed, stream: "hutchinson")
        var samples: [Double] = []
        for p in 0..<probes {
            let z = (0..<n).map { _ in rng.next() & 1 == 0 ? 1.0 : -1.0 }
            let az = try apply(z)
            let s = Vectors.dot(z, az)
            guard s.isFinite else { throw GradusError("Hutchinson: probe \(p + 1) gives a non-finite zᵀHz") }
            samples.append(s)
        }
        let mean = samples.reduce(0, +) / Double(probes)
        var error: Double?
        if probes > 1 {
            let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(probes - 1)
            error = (variance / Double(probes)).squareRoot()
        }
        return TraceEstimate(estimate: mean, standardError: error, probes: probes, samples: samples)
    }
}
