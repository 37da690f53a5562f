import GradusPluginKit

/// Adam with bias correction, coupled weight decay, AMSGrad and maximize, as torch.optim.Adam computes it.
struct Adam: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.adam", displayName: "Adam", version: "1.1.0",
                                   summary: "Adam with bias correction; ε outside the root; optional AMSGrad (max of raw v)",
                                   reference: "Kingma & Ba 2015; torch.optim.Adam")
    static let lr = Real("lr", default: 1e-3, min: 0, flags: [.logScale, .schedulable, .perGroup], doc: "learning rate")
    static let beta1 = Real("beta1", default: 0.9, min: 0, max: 1, flags: [.schedulable, .perGroup, .maxExclusive], doc: "decay of the first moment")
    static let beta2 = Real("beta2", default: 0.999, min: 0, max: 1, flags: [.perGroup, .maxExclusive], doc: "decay of the second moment")
    static let eps = Real("eps", default: 1e-8, min: 0, flags: [.logScale, .perGroup, .minExclusive], doc: "added to √v̂, outside the root")
    static let weightDecay = Real("weight_decay", default: 0, min: 0, flags: [.schedulable, .perGroup], doc: "coupled L2 penalty λ added to the gradient")
    static let amsgrad = Flag("amsgrad", doc: "use the running maximum of v (AMSGrad, PyTorch form)")
    static let maximize = Flag("maximize", doc: "ascend instead of descend")
    static let hyperparameters = schema(lr, beta1, beta2, eps, weightDecay, amsgrad, maximize)
    static let step = StateSlot.exactScalar("step"), expAvg = StateSlot.likeParameter("exp_avg")
    static let expAvgSq = StateSlot.likeParameter("exp_avg_sq"), maxExpAvgSq = StateSlot.likeParameter("max_exp_avg_sq")

    let amsgrad: Bool
    init(_ hp: HyperparameterValues) throws { amsgrad = hp[Self.amsgrad] }
    var stateSlots: [StateSlot] { [Self.step, Self.expAvg, Self.expAvgSq] + (amsgrad ? [Self.maxExpAvgSq] : []) }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters
        let step = try p.exact(Self.step)
        step.pointee += 1
        AdamStep.run(p, .init(lr: hp[Self.lr], beta1: hp[Self.beta1], beta2: hp[Self.beta2], eps: hp[Self.eps],
                              coupledDecay: hp[Self.weightDecay], maximize: hp[Self.maximize]),
                     t: step.pointee, m: try p[Self.expAvg], v: try p[Self.expAvgSq], vmax: amsgrad ? try p[Self.maxExpAvgSq] : nil)
    }
}
