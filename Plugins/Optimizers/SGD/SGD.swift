import GradusPluginKit

/// Stochastic gradient descent with PyTorch's momentum, dampening, Nesterov, coupled weight decay and maximize.
struct SGD: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.sgd", displayName: "SGD", version: "1.0.0",
                                   summary: "SGD with heavy-ball or Nesterov momentum (PyTorch conventions)",
                                   reference: "torch.optim.SGD; Sutskever et al. 2013")
    static let hyperparameters: [Hyperparameter] = [
        .real("lr", default: 1e-3, min: 0, flags: [.logScale, .schedulable, .perGroup], doc: "learning rate"),
        .real("momentum", default: 0, min: 0, max: 1, flags: [.schedulable, .perGroup, .maxExclusive], doc: "momentum factor μ"),
        .real("dampening", default: 0, min: 0, max: 1, flags: [.perGroup], doc: "dampening τ applied to new gradients in the buffer"),
        .real("weight_decay", default: 0, min: 0, flags: [.schedulable, .perGroup], doc: "coupled L2 penalty λ added to the gradient"),
        .flag("nesterov", doc: "Nesterov momentum in PyTorch's g + μ·b form (needs momentum > 0, dampening = 0)"),
        .flag("maximize", doc: "ascend instead of descend"),
    ]
    let usesMomentum: Bool

    init(_ hp: HyperparameterValues) throws {
        usesMomentum = hp.real("momentum") > 0
        if hp.flag("nesterov") && (!usesMomentum || hp.real("dampening") != 0) {
            throw PluginError.invalidArgument("nesterov=true needs momentum > 0 and dampening = 0 (got momentum=\(hp.real("momentum")), dampening=\(hp.real("dampening")))")
        }
    }

    var stateSlots: [StateSlot] { usesMomentum ? [.likeParameter("momentum_buffer"), .scalar("initialized")] : [] }

    func update(_ p: Parameter, _ ctx: StepContext) {
        let hp = ctx.hyperparameters
        let lr = Float(hp.real("lr")), wd = Float(hp.real("weight_decay")), mu = Float(hp.real("momentum"))
        let keep = Float(1 - hp.real("dampening")), nesterov = hp.flag("nesterov"), sign: Float = hp.flag("maximize") ? -1 : 1
        let first = usesMomentum && p.slots[1][0] == 0
        for i in 0..<p.count {
            var g = sign * p.grad[i]
            if wd != 0 { g += wd * p.value[i] }
            if usesMomentum {
                let b = first ? g : mu * p.slots[0][i] + keep * g
                p.slots[0][i] = b
                g = nesterov ? g + mu * b : b
            }
            p.value[i] += -lr * g
        }
        if usesMomentum { p.slots[1][0] = 1 }
    }
}
