import GradusPluginKit

/// Resilient backpropagation as torch.optim.Rprop: per-coordinate step sizes grow by η+ while the
/// gradient keeps its sign and shrink by η− when it flips (that step is skipped and the stored
/// gradient zeroed); θ ← θ − sign(g)·step_size.
struct Rprop: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.rprop", displayName: "Rprop", version: "1.0.0",
                                   summary: "sign-based steps with per-coordinate sizes adapted by sign agreement (torch's iRprop− form)",
                                   reference: "Riedmiller & Braun 1993; torch.optim.Rprop")
    static let lr = Real("lr", default: 1e-2, min: 0, flags: [.logScale, .perGroup, .minExclusive], doc: "the initial step size of every coordinate")
    static let etaminus = Real("etaminus", default: 0.5, min: 0, max: 1, flags: [.perGroup, .minExclusive, .maxExclusive], doc: "step-size factor after a sign flip")
    static let etaplus = Real("etaplus", default: 1.2, min: 1, flags: [.perGroup, .minExclusive], doc: "step-size factor while the sign holds")
    static let stepSizeMin = Real("step_size_min", default: 1e-6, min: 0, flags: [.perGroup], doc: "smallest step size")
    static let stepSizeMax = Real("step_size_max", default: 50, min: 0, flags: [.perGroup], doc: "largest step size")
    static let hyperparameters = schema(lr, etaminus, etaplus, stepSizeMin, stepSizeMax, Flag.maximize)
    static let prev = StateSlot.likeParameter("prev")

    let stepSize: StateSlot
    init(_ hp: HyperparameterValues) throws {
        guard hp[Self.stepSizeMin] <= hp[Self.stepSizeMax] else {
            throw PluginError.invalidArgument("step_size_min=\(hp[Self.stepSizeMin]) exceeds step_size_max=\(hp[Self.stepSizeMax])")
        }
        stepSize = .likeParameter("step_size", initialValue: hp[Self.lr])
    }
    var stateSlots: [StateSlot] { [.step, Self.prev, stepSize] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters
        _ = try p.advance(.step)
        let down = Float(hp[Self.etaminus]), up = Float(hp[Self.etaplus]), sign: Float = hp[Flag.maximize] ? -1 : 1
        let lo = Float(hp[Self.stepSizeMin]), hi = Float(hp[Self.stepSizeMax])
        let previous = try p[Self.prev], size = try p[stepSize], x = p.value, grad = p.grad
        forEachChunk(p.count) { range in
            for i in range {
                var g = sign * grad[i]
                let agreement = g * previous[i]
                let factor: Float = agreement > 0 ? up : agreement < 0 ? down : 1
                size[i] = min(max(size[i] * factor, lo), hi)
                if agreement < 0 { g = 0 }
                x[i] += -(g > 0 ? 1 : g < 0 ? -1 : 0) * size[i]
                previous[i] = g
            }
        }
    }
}
