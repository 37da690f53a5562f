import GradusPluginKit

/// Lion (Chen et al. 2023): the sign of an interpolation of momentum and gradient,
/// with decoupled weight decay multiplied by lr.
struct Lion: OptimizerPlugin {
    static let info = StrategyInfo(id: "example.lion", displayName: "Lion", version: "1.0.0",
                                   summary: "sign(β1·m + (1-β1)·g) steps with decoupled weight decay",
                                   reference: "Chen et al. 2023, Symbolic Discovery of Optimization Algorithms")
    static let lr = Real("lr", default: 1e-4, min: 0, flags: [.logScale, .schedulable], doc: "learning rate")
    static let beta1 = Real("beta1", default: 0.9, min: 0, max: 1, doc: "interpolation used for the update direction")
    static let beta2 = Real("beta2", default: 0.99, min: 0, max: 1, doc: "decay of the momentum")
    static let weightDecay = Real("weight_decay", default: 0, min: 0, doc: "decoupled decay λ: θ ← θ(1 − lr·λ)")
    static let hyperparameters = schema(lr, beta1, beta2, weightDecay)
    static let capabilities: Capabilities = [.decoupledWeightDecay]
    static let expAvg = StateSlot.likeParameter("exp_avg")   // allocated, saved and masked by the host

    init(_ hp: HyperparameterValues) throws {}
    var stateSlots: [StateSlot] { [Self.expAvg] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters                           // this step's values, schedules applied
        let lr = Float(hp[Self.lr]), b1 = Float(hp[Self.beta1]), b2 = Float(hp[Self.beta2])
        let decay = 1 - lr * Float(hp[Self.weightDecay]), m = try p[Self.expAvg]
        for i in 0..<p.count {
            let c = b1 * m[i] + (1 - b1) * p.grad[i]
            p.value[i] = p.value[i] * decay - lr * (c > 0 ? 1 : c < 0 ? -1 : 0)
            m[i] = b2 * m[i] + (1 - b2) * p.grad[i]
        }
    }
}

@_cdecl("gradus_plugin_entry_v1")
public func entry(_ q: EntryRequest?, _ r: EntryResponse?) -> Int32 { GradusLibrary.entry(q, r, name: "example-lion", [.optimizer(Lion.self)]) }
