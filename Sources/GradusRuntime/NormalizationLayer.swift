import GradusCore
import GradusNN

/// A model's normalization slot filled by a normalizer plugin. The graph form is used when the
/// plugin has one (gradients of every order); otherwise the kernel form runs as a custom op
/// whose gradients are first order only. Parameters and buffers are named under the slot
/// (`layers.1.weight`, `layers.1.running_mean`).
public final class PluginNormalization: Module {
    public let session: NormalizerSession
    public let parameters: [Parameter]
    public let buffers: [Buffer]
    /// True when only the kernel form exists, so Hessian-vector products cannot pass through.
    public var firstOrderOnly: Bool { !session.hasGraph }

    public init(strategy: StrategyDescriptor, hyperparameters: HyperparameterSet, name: String,
                sampleShape: [Int], channelAxis: Int, batchSize: Int) throws {
        session = try NormalizerSession(strategy: strategy, hyperparameters: hyperparameters, inputShape: [batchSize] + sampleShape,
                                        channelAxis: channelAxis, normalizedDims: sampleShape.count)
        parameters = session.parameters.map { p in
            Parameter(name: name + p.name, role: ParameterRole(rawValue: p.role.rawValue) ?? .unknown,
                      value: Tensor(shape: p.value.shape, storage: p.value.backing))
        }
        buffers = session.buffers.map { Buffer(name: name + $0.name, shape: $0.tensor.shape, storage: $0.tensor.backing) }
    }

    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) throws -> Variable {
        let params = parameters.map { b[$0] }
        let train = mode == .train
        if session.hasGraph {
            return try session.buildGraph(x, parameters: params, train: train, updatesBuffers: b.updatesStatistics)
        }
        let saved = train && !b.updatesStatistics ? buffers.map(\.value.scalars) : nil
        let xh = HostTensor(shape: x.shape, backing: x.value.storage, readOnly: true)
        let ph = params.map { HostTensor(shape: $0.shape, backing: $0.value.storage, readOnly: true) }
        let y = try session.forward(xh, parameters: ph, train: train)
        if let saved {
            for (buffer, values) in zip(buffers, saved) { buffer.storage.buffer.update(fromContentsOf: values) }
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
