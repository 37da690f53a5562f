import CGradusABI
import GradusCore
import GradusNN

/// The autodiff services for one training step (gradus/host.h): the batch loss, Hessian-vector
/// products on the batch, and re-evaluation at other parameters — all through the shared core,
/// on the same batch, leaving the real parameters untouched.
final class TrainingRunContext: RunContext {
    let model: Module
    let parameters: [Parameter]
    let x: Tensor
    let labels: [Int]
    let batchLoss: Double

    init(model: Module, x: Tensor, labels: [Int], loss: Double) {
        self.model = model
        parameters = model.parameters
        self.x = x
        self.labels = labels
        batchLoss = loss
    }

    func lossVariable(_ bindings: ParameterBindings) -> Variable {
        crossEntropy(logits: model.forward(Variable(x), bindings, mode: .train), labels: labels)
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
        let bindings = ParameterBindings(parameters)
        let loss = GradMode.with(recording: true) { lossVariable(bindings) }
        let hv = Autodiff.hessianVectorProduct(of: loss, wrt: bindings.variables, vectors: vectors)
        for (i, t) in hv.enumerated() { t.copy(to: out[i]!) }
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
        let bindings = ParameterBindings(parameters, values: values)
        let l = GradMode.with(recording: wantGrads) { lossVariable(bindings) }
        loss?.pointee = Double(l.value.scalar)
        if let grads {
            let g = Autodiff.gradients(of: l, wrt: bindings.variables)
            for (i, t) in g.enumerated() {
                guard let dst = grads[i] else { continue }
                t.value.copy(to: dst)
            }
        }
        return GRADUS_OK
    }

    private func invalid(_ message: String) -> Int32 {
        PluginErrorSlot.shared.set(GRADUS_ERR_INVALID_ARGUMENT, message)
        return GRADUS_ERR_INVALID_ARGUMENT
    }
}
