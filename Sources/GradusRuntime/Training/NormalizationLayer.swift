import GradusCore
import GradusNN

/// Which form of a normalizer plugin a model runs.
public enum NormalizerForm: String, Sendable, CaseIterable {
    /// The kernel form when the plugin has one and no second-order gradients are needed, else the graph form.
    case auto
    /// Built from host ops: gradients of every order (Hessian-vector products pass through).
    case graph
    /// The plugin's own forward/backward: usually faster, first-order gradients only.
    case kernel
}

/// A model's normalization slot filled by a normalizer plugin, run in its graph form (gradients
/// of every order) or its kernel form (a custom op with first-order gradients). Parameters and
/// buffers are named under the slot (`layers.1.weight`, `layers.1.running_mean`).
public final class PluginNormalization: Module {
    public let session: NormalizerSession
    public let parameters: [Parameter]
    public let buffers: [Buffer]
    /// Whether forward passes use the graph form.
    public let usesGraph: Bool
    /// True when the kernel form runs, so Hessian-vector products cannot pass through.
    public var firstOrderOnly: Bool { !usesGraph }

    /// `form` .auto picks the kernel form unless `needsSecondOrder` (or the plugin has no kernel).
    public init(strategy: StrategyDescriptor, hyperparameters: HyperparameterSet, name: String,
                sampleShape: [Int], channelAxis: Int, batchSize: Int, form: NormalizerForm = .auto, needsSecondOrder: Bool = true) throws {
        session = try NormalizerSession(strategy: strategy, hyperparameters: hyperparameters, inputShape: [batchSize] + sampleShape,
                                        channelAxis: channelAxis, normalizedDims: sampleShape.count)
        switch form {
        case .graph:
            guard session.hasGraph else { throw GradusError("normalizer_form=graph: \(strategy.id) has no graph form") }
            usesGraph = true
        case .kernel:
            guard session.hasKernel else { throw GradusError("normalizer_form=kernel: \(strategy.id) has no kernel form") }
            usesGraph = false
        case .auto:
            usesGraph = !session.hasKernel || (needsSecondOrder && session.hasGraph)
        }
        parameters = session.parameters.map { p in
            Parameter(name: name + p.name, role: p.role,
                      value: Tensor(shape: p.value.shape, storage: p.value.backing))
        }
        buffers = session.buffers.map { Buffer(name: name + $0.name, shape: $0.tensor.shape, storage: $0.tensor.backing) }
    }

    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) throws -> Variable {
        let params = parameters.map { b[$0] }
        let train = mode == .train
        if usesGraph {
            return try session.buildGraph(x, parameters: params, train: train, updatesBuffers: b.updatesStatistics)
        }
        let saved = train && !b.updatesStatistics ? buffers.map(\.value.scalars) : nil
        let xh = HostTensor(shape: x.shape, backing: x.value.storage, readOnly: true)
        let ph = params.map { HostTensor(shape: $0.shape, backing: $0.value.storage, readOnly: true) }
        let y = try session.forward(xh, parameters: ph, train: train)
        if let saved {
            for (buffer, values) in zip(buffers, saved) { _ = buffer.storage.buffer.update(fromContentsOf: values) }
        }
        let session = self.session
        return Variable.custom(Tensor(shape: y.shape, storage: y.backing), inputs: [x] + params) { g in
            let dy = HostTensor(shape: g.shape, backing: g.value.storage, readOnly: true)
            let grads = ph.map { HostTensor(shape: $0.shape) }
            let dx = try session.backward(xh, parameters: ph, dy: dy, parameterGradients: grads, train: train)
            return [Variable(Tensor(shape: dx.shape, storage: dx.backing))] + grads.map { Variable(Tensor(shape: $0.shape, storage: $0.backing)) }
        }
    }
}
