import GradusCore
import GradusNN

/// The mean cross-entropy of a model on fixed rows as a function of its parameters, in eval mode
/// (no dropout; normalizers use their running statistics, so the loss is a deterministic function
/// of the parameters alone). Rows are taken in chunks of 512, as `Trainer.evaluate` does, so at
/// the saved weights the loss is the one `gradus eval` computes on the same rows.
public final class ModelObjective {
    public let model: Sequential
    public let rows: Dataset
    public let layout: ParameterLayout
    /// The rows as batches of at most `Trainer.evaluationChunkRows`.
    private let chunks: [(x: Tensor, labels: [Int])]

    public init(model: Sequential, rows: Dataset) {
        self.model = model
        self.rows = rows
        layout = ParameterLayout(model.parameters)
        chunks = stride(from: 0, to: rows.count, by: Trainer.evaluationChunkRows).map { start in
            rows.batch(Array(start..<min(start + Trainer.evaluationChunkRows, rows.count))[...])
        }
    }

    public var parameters: [Parameter] { model.parameters }

    /// The parameters' current values, flattened.
    public var point: [Double] { layout.flatten(parameters.map(\.value)) }

    /// Mean loss and accuracy with the parameters at `values` (their current values when nil),
    /// without recording; the model's own parameters are not changed.
    public func evaluate(at values: [Tensor]? = nil) throws -> (loss: Double, accuracy: Double) {
        try GradMode.with(recording: false) {
            var lossSum = 0.0, correct = 0
            for (x, labels) in chunks {
                let bindings = values.map { ParameterBindings(parameters, values: $0) } ?? ParameterBindings(parameters)
                let logits = try model.forward(Variable(x), bindings, mode: .eval)
                lossSum += Double(crossEntropy(logits: logits, labels: labels).value.scalar) * Double(labels.count)
                correct += Trainer.correctPredictions(logits.value, labels)
            }
            return (lossSum / Double(rows.count), Double(correct) / Double(rows.count))
        }
    }

    /// H·v for the Hessian H of the mean loss at the current parameters, v and the result flat
    /// (double precision between chunks; each chunk's product is float32 autodiff).
    public func hessianVectorProduct(_ v: [Double]) throws -> [Double] {
        let vectors = layout.tensors(v)
        var out = [Double](repeating: 0, count: layout.dimension)
        for (x, labels) in chunks {
            _ = Autodiff.takeFailure()
            let bindings = ParameterBindings(parameters)
            let loss = try GradMode.with(recording: true) {
                crossEntropy(logits: try model.forward(Variable(x), bindings, mode: .eval), labels: labels)
            }
            let hv = Autodiff.hessianVectorProduct(of: loss, wrt: bindings.variables, vectors: vectors)
            if let error = Autodiff.takeFailure() { throw error }
            let weight = Double(labels.count) / Double(rows.count)
            var offset = 0
            for t in hv {
                t.withUnsafeBuffer { b in for i in 0..<b.count { out[offset + i] += weight * Double(b[i]) } }
                offset += t.count
            }
        }
        return out
    }
}
