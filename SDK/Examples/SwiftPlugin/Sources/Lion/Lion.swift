import GradusPluginKit

/// Lion (Chen et al. 2023): the sign of an interpolation of momentum and gradient,
/// with decoupled weight decay multiplied by lr.
struct Lion: OptimizerPlugin {
    static let info = StrategyInfo(id: "example.lion", displayName: "Lion", version: "1.0.0",
                                   summary: "sign(β1·m + (1-β1)·g) steps with decoupled weight decay",
                                   reference: "Chen et al. 2023, Symbolic Discovery of Optimization Algorithms")
    static let hyperparameters: [Hyperparameter] = [
        .real("lr", default: 1e-4, min: 0, flags: [.logScale, .schedulable], doc: "learning rate"),
        .real("beta1", default: 0.9, min: 0, max: 1, doc: "interpolation used for the update direction"),
        .real("beta2", default: 0.99, min: 0, max: 1, doc: "decay of the momentum"),
        .real("weight_decay", default: 0, min: 0, doc: "decoupled decay λ, applied as θ ← θ(1 − lr·λ)"),
    ]
    static let capabilities: Capabilities = [.decoupledWeightDecay]

    init(_ hp: HyperparameterValues) throws {}

    var stateSlots: [StateSlot] { [.likeParameter("exp_avg")] }

    func update(_ p: Parameter, _ ctx: StepContext) {
        let hp = ctx.hyperparameters
        let lr = Float(hp.real("lr")), b1 = Float(hp.real("beta1")), b2 = Float(hp.real("beta2"))
        let decay = 1 - lr * Float(hp.real("weight_decay"))
        let m = p.slots[0]
        for i in 0..<p.count {
            let c = b1 * m[i] + (1 - b1) * p.grad[i]
            p.value[i] = p.value[i] * decay - lr * (c > 0 ? 1 : c < 0 ? -1 : 0)
            m[i] = b2 * m[i] + (1 - b2) * p.grad[i]
        }
    }
}

let library = GradusLibrary(name: "example-lion", vendor: "example", strategies: [.optimizer(Lion.self)])

/// The library's only export: negotiation (see gradus/entry.h).
@_cdecl("gradus_plugin_entry_v1")
public func gradusPluginEntryV1(_ request: UnsafePointer<gradus_entry_request>?, _ response: UnsafeMutablePointer<gradus_entry_response>?) -> Int32 {
    library.negotiate(request, response)
}
