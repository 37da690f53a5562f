import GradusPluginKit

/// AdamW: Adam with decoupled weight decay θ·(1 − η·λ) applied before the step, as torch.optim.AdamW.
struct AdamW: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.adamw", displayName: "AdamW", version: "1.0.0",
                                   summary: "Adam with decoupled weight decay θ·(1 − ηλ); ε outside the root; optional AMSGrad (max of raw v)",
                                   reference: "Loshchilov & Hutter 2019; torch.optim.AdamW")
    static let lr = Real("lr", default: 1e-3, min: 0, flags: [.logScale, .schedulable, .perGroup], doc: "learning rate")
    static let beta1 = Adam.beta1, beta2 = Adam.beta2, eps = Adam.eps, amsgrad = Adam.amsgrad, maximize = Adam.maximize
    static let weightDecay = Real("weight_decay", default: 1e-2, min: 0, flags: [.schedulable, .perGroup],
                                  doc: "decoupled decay λ: θ ← θ·(1 − η·λ) before the step")
    static let hyperparameters = schema(lr, beta1, beta2, eps, weightDecay, amsgrad, maximize)
    static let capabilities: Capabilities = [.decoupledWeightDecay]

    let amsgrad: Bool
    init(_ hp: HyperparameterValues) throws { amsgrad = hp[Self.amsgrad] }
    var stateSlots: [StateSlot] { [Adam.step, Adam.expAvg, Adam.expAvgSq] + (amsgrad ? [Adam.maxExpAvgSq] : []) }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters
        let step = try p.exact(Adam.step)
        step.pointee += 1
        AdamStep.run(p, .init(lr: hp[Self.lr], beta1: hp[Self.beta1], beta2: hp[Self.beta2], eps: hp[Self.eps],
                              decoupledDecay: hp[Self.weightDecay], maximize: hp[Self.maximize]),
                     t: step.pointee, m: try p[Adam.expAvg], v: try p[Adam.expAvgSq], vmax: amsgrad ? try p[Adam.maxExpAvgSq] : nil)
    }
}
