import GradusCore

/// Filter-normalised random directions in parameter space (Li, Xu, Taylor, Studer & Goldstein 2018,
/// "Visualizing the Loss Landscape of Neural Nets", §4): a Gaussian direction d is rescaled filter
/// by filter so that each filter of d has the norm of the corresponding filter of the weights θ,
/// d_i ← d_i / ‖d_i‖ · ‖θ_i‖, which makes plots comparable across networks whose weights differ in
/// scale. A filter is a slice along the first axis: one output row of a dense weight [out, in], one
/// output channel of a convolution weight [out, in, k, k].
///
/// Parameters with fewer than two axes (biases, normalizer gains and biases) get a zero direction:
/// the paper's option of ignoring biases and batch-normalisation parameters, whose directions have
/// no filter structure to normalise. Normalizer buffers (running statistics) are not parameters and
/// do not move either.
public enum FilterNormalization {
    /// A seeded filter-normalised direction for `weights` (one tensor per parameter).
    public static func randomDirection(like weights: [Tensor], rng: inout RandomStream) -> [Tensor] {
        let gaussian = weights.map { w in
            w.rank >= 2 ? Tensor(shape: w.shape, scalars: (0..<w.count).map { _ in rng.normal() }) : Tensor(shape: w.shape, repeating: 0)
        }
        return normalized(gaussian, like: weights)
    }

    /// `direction` rescaled per filter to the norms of the filters of `weights`; parameters with
    /// fewer than two axes get zeros, and so does a filter of the direction that is all zero.
    public static func normalized(_ direction: [Tensor], like weights: [Tensor]) -> [Tensor] {
        precondition(direction.map(\.shape) == weights.map(\.shape), "a direction must have the weights' shapes")
        return zip(direction, weights).map { d, w in
            guard w.rank >= 2, w.count > 0 else { return Tensor(shape: w.shape, repeating: 0) }
            let filters = w.shape[0], size = w.count / filters
            var out = d
            out.withUnsafeMutableBuffer { o in w.withUnsafeBuffer { wb in
                for f in 0..<filters {
                    let range = (f * size)..<((f + 1) * size)
                    let dn = range.reduce(0.0) { $0 + Double(o[$1]) * Double(o[$1]) }.squareRoot()
                    let wn = range.reduce(0.0) { $0 + Double(wb[$1]) * Double(wb[$1]) }.squareRoot()
                    let s = dn > 0 ? wn / dn : 0
                    for i in range { o[i] = Float(Double(o[i]) * s) }
                }
            } }
            return out
        }
    }
}
