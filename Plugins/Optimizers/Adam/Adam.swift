import Glibc
import GradusPluginKit

/// Adam with bias correction, coupled weight decay, AMSGrad and maximize, as torch.optim.Adam computes it.
struct Adam: OptimizerPlugin {
    static let info = StrategyInfo(id: "gradus.adam", displayName: "Adam", version: "1.0.0",
                                   summary: "Adam with bias correction; ε outside the root; optional AMSGrad (max of raw v)",
                                   reference: "Kingma & Ba 2015; torch.optim.Adam")
    static let hyperparameters: [Hyperparameter] = [
        .real("lr", default: 1e-3, min: 0, flags: [.logScale, .schedulable, .perGroup], doc: "learning rate"),
        .real("beta1", default: 0.9, min: 0, max: 1, flags: [.schedulable, .perGroup, .maxExclusive], doc: "decay of the first moment"),
        .real("beta2", default: 0.999, min: 0, max: 1, flags: [.perGroup, .maxExclusive], doc: "decay of the second moment"),
        .real("eps", default: 1e-8, min: 0, flags: [.logScale, .perGroup, .minExclusive], doc: "added to √v̂, outside the root"),
        .real("weight_decay", default: 0, min: 0, flags: [.schedulable, .perGroup], doc: "coupled L2 penalty λ added to the gradient"),
        .flag("amsgrad", doc: "use the running maximum of v (AMSGrad, PyTorch form)"),
        .flag("maximize", doc: "ascend instead of descend"),
    ]
    let amsgrad: Bool

    init(_ hp: HyperparameterValues) throws { amsgrad = hp.flag("amsgrad") }

    var stateSlots: [StateSlot] {
        [.scalar("step"), .likeParameter("exp_avg"), .likeParameter("exp_avg_sq")] + (amsgrad ? [.likeParameter("max_exp_avg_sq")] : [])
    }

    func update(_ p: Parameter, _ ctx: StepContext) {
        let hp = ctx.hyperparameters
        let beta1 = hp.real("beta1"), beta2 = hp.real("beta2"), wd = Float(hp.real("weight_decay")), eps = Float(hp.real("eps"))
        p.slots[0][0] += 1
        let t = Double(p.slots[0][0])
        let stepSize = Float(hp.real("lr") / (1 - pow(beta1, t))), rootBC2 = Float((1 - pow(beta2, t)).squareRoot())
        let w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2), sign: Float = hp.flag("maximize") ? -1 : 1
        let m = p.slots[1], v = p.slots[2], x = p.value, grad = p.grad, vmax = p.slots[amsgrad ? 3 : 2]
        // One body, a copy per AMSGrad setting: branch- and alias-free, so it vectorises (λ = 0 adds exactly 0).
        @inline(__always) func run(_ range: Range<Int>, _ ams: Bool) {
            for i in range {
                let g = sign * grad[i] + wd * x[i]
                m[i] += w1 * (g - m[i])
                v[i] = v[i] * b2 + w2 * g * g
                if ams { vmax[i] = max(vmax[i], v[i]) }
                x[i] += -stepSize * (m[i] / (fastSqrt(ams ? vmax[i] : v[i]) / rootBC2 + eps))
            }
        }
        forEachChunk(p.count) { amsgrad ? run($0, true) : run($0, false) }
    }
}
