import GradusPluginKit

/// Stochastic gradient descent with PyTorch's momentum, dampening, Nesterov, coupled weight decay and maximize.
struct SGD: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.sgd", displayName: "SGD", version: "1.1.0",
                                   summary: "SGD with heavy-ball or Nesterov momentum (PyTorch conventions)",
                                   reference: "torch.optim.SGD; Sutskever et al. 2013")
    static let lr = Real("lr", default: 1e-3, min: 0, flags: [.logScale, .schedulable, .perGroup], doc: "learning rate")
    static let momentum = Real("momentum", default: 0, min: 0, max: 1, flags: [.schedulable, .perGroup, .maxExclusive], doc: "momentum factor μ")
    static let dampening = Real("dampening", default: 0, min: 0, max: 1, flags: [.perGroup], doc: "dampening τ applied to new gradients in the buffer")
    static let weightDecay = Real("weight_decay", default: 0, min: 0, flags: [.schedulable, .perGroup], doc: "coupled L2 penalty λ added to the gradient")
    static let nesterov = Flag("nesterov", doc: "Nesterov momentum in PyTorch's g + μ·b form (needs momentum > 0, dampening = 0)")
    static let maximize = Flag("maximize", doc: "ascend instead of descend")
    static let hyperparameters = schema(lr, momentum, dampening, weightDecay, nesterov, maximize)
    static let buffer = StateSlot.likeParameter("momentum_buffer"), initialized = StateSlot.exactScalar("initialized")

    let usesMomentum: Bool
    init(_ hp: HyperparameterValues) throws {
        usesMomentum = hp[Self.momentum] > 0
        if hp[Self.nesterov] && (!usesMomentum || hp[Self.dampening] != 0) {
            throw PluginError.invalidArgument("nesterov=true needs momentum > 0 and dampening = 0 (got momentum=\(hp[Self.momentum]), dampening=\(hp[Self.dampening]))")
        }
    }
    var stateSlots: [StateSlot] { usesMomentum ? [Self.buffer, Self.initialized] : [] }

    func update(_ p: Parameter, _ ctx: StepContext) throws {
        let hp = ctx.hyperparameters
        let lr = Float(hp[Self.lr]), wd = Float(hp[Self.weightDecay]), mu = Float(hp[Self.momentum])
        let keep = Float(1 - hp[Self.dampening]), nesterov = hp[Self.nesterov], sign: Float = hp[Self.maximize] ? -1 : 1
        // The first step copies g into the buffer (0·0 + 1·g); Nesterov adds g (0·g otherwise). Branch-free
        // bodies, a copy with and without momentum, vectorise; λ = 0 adds exactly 0.
        let initialized = usesMomentum ? try p.exact(Self.initialized) : nil
        let first = (initialized?.pointee ?? 1) == 0, m1: Float = first ? 0 : mu, k1: Float = first ? 1 : keep
        let n1: Float = nesterov ? 1 : 0, nb: Float = nesterov ? mu : 1
        let x = p.value, grad = p.grad, buf = usesMomentum ? try p[Self.buffer] : p.value
        @inline(__always) func run(_ range: Range<Int>, _ momentum: Bool) {
            for i in range {
                var g = sign * grad[i] + wd * x[i]
                if momentum { let b = m1 * buf[i] + k1 * g; buf[i] = b; g = n1 * g + nb * b }
                x[i] += -lr * g
            }
        }
        forEachChunk(p.count) { usesMomentum ? run($0, true) : run($0, false) }
        initialized?.pointee = 1
    }
}
