import GradusPluginKit

/// Adam with bias correction, coupled weight decay, AMSGrad and maximize, as torch.optim.Adam computes it.
struct Adam: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.adam", displayName: "Adam", version: "1.1.0",
                                   summary: "Adam with bias correction; ε outside the root; optional AMSGrad (max of raw v)",
                                   reference: "Kingma & Ba 2015; torch.optim.Adam")
    static let lr = Real.learningRate(1e-3), beta1 = Real.decay("beta1", 0.9, "decay of the first moment", schedulable: true)
    static let beta2 = Real.decay("beta2", 0.999, "decay of the second moment"), eps = Real.epsilon(1e-8, "added to √v̂, outside the root")
    static let weightDecay = Real.weightDecay(decoupled: false)
    static let amsgrad = Flag("amsgrad", doc: "use the running maximum of v (AMSGrad, PyTorch form)")
    static let hyperparameters = schema(lr, beta1, beta2, eps, weightDecay, amsgrad, Flag.maximize)
    static let maxExpAvgSq = StateSlot.likeParameter("max_exp_avg_sq")

    let amsgrad: Bool
    init(_ hp: HyperparameterValues) throws { amsgrad = hp[Self.amsgrad] }
    var stateSlots: [StateSlot] { [.step, .expAvg, .expAvgSq] + (amsgrad ? [Self.maxExpAvgSq] : []) }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters
        let t = try p.advance(.step)
        AdamStep.run(p, .init(lr: hp[Self.lr], beta1: hp[Self.beta1], beta2: hp[Self.beta2], eps: hp[Self.eps],
                              coupledDecay: hp[Self.weightDecay], maximize: hp[Flag.maximize]),
                     t: t, m: try p[.expAvg], v: try p[.expAvgSq], vmax: amsgrad ? try p[Self.maxExpAvgSq] : nil)
    }
}
