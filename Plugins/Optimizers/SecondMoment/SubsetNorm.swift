import GradusPluginKit

/// Subset-Norm Adam (AdamWSN) as pytorch-optimizer's AdamWSN with sn=True: the flattened parameter
/// is cut into contiguous chunks of k coordinates and each chunk keeps one second-moment value, the
/// EMA of the chunk's summed squared gradient; bias correction folded into the step; decoupled decay
/// after the update.
struct SubsetNorm: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.subset_norm", displayName: "Subset-Norm Adam", version: "1.0.0",
                                   summary: "Adam with one second moment per contiguous chunk of ~√d coordinates (O(√d) memory)",
                                   reference: "Nguyen et al. 2024 (Subset-Norm); pytorch_optimizer.AdamWSN 4.1.0")
    static let lr = Real.learningRate(1e-3), beta1 = Real.decay("beta1", 0.9, "decay of the first moment")
    static let beta2 = Real.decay("beta2", 0.999, "decay of the per-chunk second moment")
    static let weightDecay = Real.weightDecay(decoupled: true)
    static let subsetSize = Integer("subset_size", default: -1, min: -(1 << 30), max: 1 << 30, doc: "> 0: target chunk length; < 0: target ⌊√d / |subset_size|⌋ (at least 1); the chunk length is the largest divisor of d not above the target")
    static let eps = Real.epsilon(1e-8, "added to the root")
    static let hyperparameters = schema(lr, beta1, beta2, weightDecay, Flag.fixedDecay, subsetSize, eps, Flag.maximize)
    static let capabilities: Capabilities = [.decoupledWeightDecay]
    static let chunk = StateSlot.exactScalar("subset_size")

    /// The chunk length for a parameter of `count` coordinates.
    static func chunkLength(_ count: Int, _ setting: Int64) -> Int {
        let target = setting > 0 ? Int(setting) : max(1, Int(Double(count).squareRoot() / Double(abs(setting))))
        return (1...max(1, min(target, count))).last { count % $0 == 0 } ?? 1
    }

    let secondMoment: StateSlot
    init(_ hp: HyperparameterValues) throws {
        let setting = hp[Self.subsetSize]
        guard setting != 0 else { throw PluginError.invalidArgument("subset_size=0: expected a positive chunk length or a negative divisor of √d") }
        secondMoment = .shaped("exp_avg_sq") { shape, _ in
            let n = shape.reduce(1, *)
            return [n / Self.chunkLength(n, setting), 1]
        }
    }
    var stateSlots: [StateSlot] { [.step, Self.chunk, .expAvg, secondMoment] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters, t = try p.advance(.step), lr = hp[Self.lr], n = p.count
        let k = Self.chunkLength(n, hp[Self.subsetSize])
        try p.exact(Self.chunk).pointee = Double(k)
        let step = Float(-lr * (1 - pow(hp[Self.beta2], t)).squareRoot() / (1 - pow(hp[Self.beta1], t)))
        let keep = WeightDecay(hp[Self.weightDecay], lr: lr, decoupled: true, fixed: hp[Flag.fixedDecay]).keep
        let w1 = Float(1 - hp[Self.beta1]), w2 = Float(1 - hp[Self.beta2]), eps = Float(hp[Self.eps]), sign: Float = hp[Flag.maximize] ? -1 : 1
        let m = try p[.expAvg], v = try p[secondMoment], x = p.value, grad = p.grad
        for c in 0..<(n / k) {
            // Σ g² of the chunk (the sign does not matter), then its coordinates.
            let sum = Float(sumOfSquares(UnsafeBufferPointer(rebasing: grad[(c * k)..<((c + 1) * k)])))
            v[c] = lerp(v[c], sum, w2)
            let den = fastSqrt(v[c]) + eps
            for i in (c * k)..<((c + 1) * k) {
                m[i] = lerp(m[i], sign * grad[i], w1)
                x[i] = (x[i] + step * (m[i] / den)) * keep
            }
        }
    }
}
