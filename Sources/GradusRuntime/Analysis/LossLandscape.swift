import GradusCore

/// Loss and accuracy along one filter-normalised random direction d: θ + α·d for evenly spaced α
/// in [−span, span] (an odd number of points, so α = 0, the weights themselves, is one of them).
public struct LandscapeCurve: Sendable {
    public let alphas: [Double]
    public let loss: [Double]
    public let accuracy: [Double]

    public var jsonFields: [(String, String)] {
        [("alphas", LossLandscape.json(alphas)), ("loss", LossLandscape.json(loss)), ("accuracy", LossLandscape.json(accuracy))]
    }
}

/// Loss and accuracy over the plane of two filter-normalised random directions d and e:
/// `loss[i][j]` is the loss at θ + αᵢ·d + βⱼ·e.
public struct LandscapeSurface: Sendable {
    public let alphas: [Double]
    public let betas: [Double]
    public let loss: [[Double]]
    public let accuracy: [[Double]]

    public var jsonFields: [(String, String)] {
        [("alphas", LossLandscape.json(alphas)), ("betas", LossLandscape.json(betas)),
         ("loss", JSONText.array(loss.map(LossLandscape.json))), ("accuracy", JSONText.array(accuracy.map(LossLandscape.json)))]
    }
}

/// Slices of the loss landscape around a model's weights (Li et al. 2018, see `FilterNormalization`),
/// evaluated by `ModelObjective` (eval mode, the objective's rows).
public enum LossLandscape {
    /// The largest number of points of a curve.
    public static let maxSteps = 1001
    /// The largest number of points per axis of a grid (201² evaluations).
    public static let maxGridSteps = 201

    /// `steps` evenly spaced coordinates from −span to span; the middle one is exactly 0.
    public static func coordinates(steps: Int, span: Double) -> [Double] {
        precondition(steps >= 3 && steps % 2 == 1, "an odd number of steps of at least 3")
        let half = Double(steps - 1) / 2
        return (0..<steps).map { span * (Double($0) - half) / half }
    }

    /// The 1-D slice along one direction drawn from `seed`.
    public static func curve(_ objective: ModelObjective, steps: Int, span: Double, seed: UInt64) throws -> LandscapeCurve {
        let weights = objective.parameters.map(\.value)
        var rng = RandomStream(seed: seed, stream: "landscape")
        let d = FilterNormalization.randomDirection(like: weights, rng: &rng)
        let alphas = coordinates(steps: steps, span: span)
        var loss: [Double] = [], accuracy: [Double] = []
        for a in alphas {
            let r = try objective.evaluate(at: moved(weights, [(a, d)]))
            loss.append(r.loss)
            accuracy.append(r.accuracy)
        }
        return LandscapeCurve(alphas: alphas, loss: loss, accuracy: accuracy)
    }

    /// The 2-D slice over two directions drawn one after the other from `seed`.
    public static func surface(_ objective: ModelObjective, steps: Int, span: Double, seed: UInt64) throws -> LandscapeSurface {
        let weights = objective.parameters.map(\.value)
        var rng = RandomStream(seed: seed, stream: "landscape")
        let d = FilterNormalization.randomDirection(like: weights, rng: &rng)
        let e = FilterNormalization.randomDirection(like: weights, rng: &rng)
        let alphas = coordinates(steps: steps, span: span)
        var loss: [[Double]] = [], accuracy: [[Double]] = []
        for a in alphas {
            var row: [Double] = [], acc: [Double] = []
            for b in alphas {
                let r = try objective.evaluate(at: moved(weights, [(a, d), (b, e)]))
                row.append(r.loss)
                acc.append(r.accuracy)
            }
            loss.append(row)
            accuracy.append(acc)
        }
        return LandscapeSurface(alphas: alphas, betas: alphas, loss: loss, accuracy: accuracy)
    }

    /// θ + Σ cₖ·dₖ in float32; a zero coefficient leaves θ bit for bit.
    static func moved(_ weights: [Tensor], _ steps: [(Double, [Tensor])]) -> [Tensor] {
        weights.indices.map { k in
            var out = weights[k]
            for (c, direction) in steps where c != 0 {
                let s = Float(c)
                out.withUnsafeMutableBuffer { o in direction[k].withUnsafeBuffer { d in
                    for i in 0..<o.count { o[i] += s * d[i] }
                } }
            }
            return out
        }
    }

    static func json(_ values: [Double]) -> String { JSONText.array(values.map(JSONText.number)) }
}
