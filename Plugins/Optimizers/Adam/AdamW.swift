import GradusPluginKit

/// AdamW: Adam with decoupled weight decay θ·(1 − η·λ) applied before the step, as torch.optim.AdamW.
struct AdamW: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.adamw", displayName: "AdamW", version: "1.0.0",
                                   summary: "Adam with decoupled weight decay θ·(1 − ηλ); ε outside the root; optional AMSGrad (max of raw v)",
                                   reference: "Loshchilov & Hutter 2019; torch.optim.AdamW")
    static let lr = Real.learningRate(1e-3)
    static let beta1 = Adam.beta1, beta2 = Adam.beta2, eps = Adam.eps, amsgrad = Adam.amsgrad
    static let weightDecay = Real("weight_decay", default: 1e-2, min: 0, flags: [.schedulable, .perGroup],
                                  doc: "decoupled decay λ: θ ← θ·(1 − η·λ) before the step")
    static let hyperparameters = schema(lr, beta1, beta2, eps, weightDecay, amsgrad, Flag.maximize)
    static let capabilities: Capabilities = [.decoupledWeightDecay]

    let amsgrad: Bool
    init(_ hp: HyperparameterValues) throws { amsgrad = hp[Self.amsgrad] }
    var stateSlots: [StateSlot] { [.step, .expAvg, .expAvgSq] + (amsgrad ? [Adam.maxExpAvgSq] : []) }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters
        let t = try p.advance(.step)
        AdamStep.run(p, .init(lr: hp[Self.lr], beta1: hp[Self.beta1], beta2: hp[Self.beta2], eps: hp[Self.eps],
                              decoupledDecay: hp[Self.weightDecay], maximize: hp[Flag.maximize]),
                     t: t, m: try p[.expAvg], v: try p[.expAvgSq], vmax: amsgrad ? try p[Adam.maxExpAvgSq] : nil)
    }
}
