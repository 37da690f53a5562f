import CGradusABI
import GradusCore
import GradusNN

/// The autodiff services for one group's step (gradus/host.h): the batch loss, Hessian-vector
/// products on the batch, and re-evaluation at other parameters — all through the shared core,
/// on the same batch with the same dropout masks, with the other groups' parameters held fixed,
/// leaving the real parameters and the normalizers' running statistics untouched.
final class TrainingRunContext: RunContext {
    let model: Module
    /// The group being stepped; the services see and return these parameters, in this order.
    let parameters: [Parameter]
    let x: Tensor
    let labels: [Int]
    let batchLoss: Double
    let rng: RandomStream
    /// Per layer: input, output and the loss gradient at the output, when the optimizer asked.
    let activations: [String: [Tensor]]
    /// Views handed out by `activation`, kept alive until the step returns.
    private var lent: [HostTensor] = []

    init(model: Module, group: [Parameter], x: Tensor, labels: [Int], loss: Double, rng: RandomStream,
         activations: [String: [Tensor]] = [:]) {
        self.model = model
        parameters = group
        self.x = x
        self.labels = labels
        batchLoss = loss
        self.rng = rng
        self.activations = activations
    }

    override func activation(_ module: UnsafePointer<CChar>?, _ which: Int32, _ out: UnsafeMutablePointer<gradus_tensor_view>?) -> Int32 {
        guard let module, let out, (0...2).contains(which) else {
            return invalid("activation: NULL module or out, or which=\(which) (expected 0 input, 1 output, 2 output gradient)")
        }
        let name = String(cString: module)
        guard let tensors = activations[name] else {
            return invalid("activation: no recorded module '\(name)' (recorded: \(activations.keys.sorted { $0.localizedStandardCompare($1) == .orderedAscending }.joined(separator: ", ")))")
        }
        let t = tensors[Int(which)]
        let view = HostTensor(shape: t.shape, backing: t.storage, readOnly: true)
        lent.append(view)
        out.pointee = view.view.pointee
        return GRADUS_OK
    }

    /// Bindings for a re-evaluation: every model parameter at its value, the group's replaced
    /// by `values` when given; returns them with the group's leaves in group order.
    func bindings(_ values: [Tensor]? = nil) -> (ParameterBindings, [Variable]) {
        let b = ParameterBindings(model.parameters)
        b.rng = rng
        b.updatesStatistics = false
        if let values { for (p, v) in zip(parameters, values) { b.replace(p, with: v) } }
        return (b, parameters.map { b[$0] })
    }

    func lossVariable(_ bindings: ParameterBindings) throws -> Variable {
        crossEntropy(logits: try model.forward(Variable(x), bindings, mode: .train), labels: labels)
    }

    private func failed(_ service: String, _ error: Error) -> Int32 {
        PluginErrorSlot.shared.set(GRADUS_ERR_INTERNAL, "\(service): \(error)")
        return GRADUS_ERR_INTERNAL
    }

    override func loss(_ out: UnsafeMutablePointer<Double>?) -> Int32 {
        guard let out else { return invalid("loss: out_loss is NULL") }
        out.pointee = batchLoss
        return GRADUS_OK
    }

    override func hessianVectorProduct(_ v: UnsafePointer<UnsafePointer<Float>?>?, _ out: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                                       _ n: UInt32) -> Int32 {
        guard Int(n) == parameters.count, let v, let out else {
            return invalid("hessian_vector_product: \(n) vectors for \(parameters.count) parameters")
        }
        var vectors: [Tensor] = []
        for (i, p) in parameters.enumerated() {
            guard let src = v[i], out[i] != nil else { return invalid("hessian_vector_product: vector \(i) is NULL") }
            vectors.append(Tensor(shape: p.shape, storage: TensorStorage(copying: src, count: p.storage.count)))
        }
        if let layer = model.descendants.compactMap({ $0 as? PluginNormalization }).first(where: \.firstOrderOnly) {
            PluginErrorSlot.shared.set(GRADUS_ERR_UNSUPPORTED, "hessian_vector_product: normalizer \(layer.session.strategy.id) runs in its kernel form (first-order gradients)")
            return GRADUS_ERR_UNSUPPORTED
        }
        let (b, leaves) = bindings()
        do {
            let loss = try GradMode.with(recording: true) { try lossVariable(b) }
            let hv = Autodiff.hessianVectorProduct(of: loss, wrt: leaves, vectors: vectors)
            for (i, t) in hv.enumerated() { t.copy(to: out[i]!) }
        } catch { return failed("hessian_vector_product", error) }
        return GRADUS_OK
    }

    override func evaluate(_ p: UnsafePointer<UnsafePointer<Float>?>?, _ n: UInt32, _ loss: UnsafeMutablePointer<Double>?,
                           _ grads: UnsafePointer<UnsafeMutablePointer<Float>?>?) -> Int32 {
        guard Int(n) == parameters.count, let p else { return invalid("evaluate_at: \(n) tensors for \(parameters.count) parameters") }
        var values: [Tensor] = []
        for (i, param) in parameters.enumerated() {
            guard let src = p[i] else { return invalid("evaluate_at: parameter \(i) is NULL") }
            values.append(Tensor(shape: param.shape, storage: TensorStorage(copying: src, count: param.storage.count)))
        }
        let wantGrads = grads != nil
        let (b, leaves) = bindings(values)
        do {
            let l = try GradMode.with(recording: wantGrads) { try lossVariable(b) }
            loss?.pointee = Double(l.value.scalar)
            if let grads {
                let g = try Autodiff.checkedGradients(of: l, wrt: leaves)
                for (i, t) in g.enumerated() {
                    guard let dst = grads[i] else { continue }
                    t.value.copy(to: dst)
                }
            }
        } catch { return failed("evaluate_at", error) }
        return GRADUS_OK
    }

    private func invalid(_ message: String) -> Int32 {
        PluginErrorSlot.shared.set(GRADUS_ERR_INVALID_ARGUMENT, message)
        return GRADUS_ERR_INVALID_ARGUMENT
    }
}
