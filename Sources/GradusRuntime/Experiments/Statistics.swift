import Foundation

/// Summary statistics and the significance test of `gradus compare`.
public enum Statistics {
    public static func mean(_ x: [Double]) -> Double? { x.isEmpty ? nil : x.reduce(0, +) / Double(x.count) }

    /// The sample standard deviation (n − 1 in the denominator); nil below two values.
    public static func standardDeviation(_ x: [Double]) -> Double? {
        guard x.count >= 2, let m = mean(x) else { return nil }
        return (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count - 1)).squareRoot()
    }

    /// Welch's unequal-variance t-test of mean(a) = mean(b): (t, degrees of freedom, two-sided p).
    /// Nil when either sample has fewer than two values. Two samples without spread give p = 1
    /// when their means are equal and p = 0 when they differ.
    public static func welch(_ a: [Double], _ b: [Double]) -> (t: Double, df: Double, p: Double)? {
        guard a.count >= 2, b.count >= 2, let ma = mean(a), let mb = mean(b), let sa = standardDeviation(a), let sb = standardDeviation(b) else { return nil }
        let va = sa * sa / Double(a.count), vb = sb * sb / Double(b.count)
        guard va + vb > 0 else { return (ma == mb ? 0 : (ma > mb ? .infinity : -.infinity), Double(a.count + b.count - 2), ma == mb ? 1 : 0) }
        let t = (ma - mb) / (va + vb).squareRoot()
        let na = Double(a.count - 1), nb = Double(b.count - 1)
        let denominator: Double = va * va / na + vb * vb / nb
        let df: Double = (va + vb) * (va + vb) / denominator
        // P(|T| > |t|) for Student's t with df degrees of freedom = I_{df/(df+t²)}(df/2, 1/2).
        let p = regularizedIncompleteBeta(df / (df + t * t), a: df / 2, b: 0.5)
        return (t, df, min(max(p, 0), 1))
    }

    /// I_x(a, b), the regularized incomplete beta function, by its continued fraction (evaluated
    /// with the modified Lentz method), using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the
    /// fraction converges slowly.
    public static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a) }
        let logBeta: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logPowers: Double = a * Foundation.log(x) + b * Foundation.log(1 - x)
        let logFront = logBeta + logPowers
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var f = d
        for m in 1...500 {
            let m = Double(m)
            // Even step: d_{2m} = m(b − m)x / ((a + 2m − 1)(a + 2m)).
            var coefficient = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + coefficient * d; if abs(d) < tiny { d = tiny }
            c = 1 + coefficient / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            f *= d * c
            // Odd step: d_{2m+1} = −(a + m)(a + b + m)x / ((a + 2m)(a + 2m + 1)).
            coefficient = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + coefficient * d; if abs(d) < tiny { d = tiny }
            c = 1 + coefficient / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            f *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return Foundation.exp(logFront) * f / a
    }
}
