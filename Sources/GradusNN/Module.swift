import GradusCore

/// Train or eval behaviour (dropout, normalizer statistics).
public enum Mode: Sendable { case train, eval }

/// A differentiable function with named parameters.
public protocol Module: AnyObject {
    /// Every parameter, named from this module down (`0.weight`, `1.bias`, ...).
    var parameters: [Parameter] { get }
    /// Non-trained state saved with the model (running statistics), named like parameters.
    var buffers: [Buffer] { get }
    /// y = f(x). `bindings` gives the leaf variable to use for each parameter in this pass.
    /// Throws when a plugin behind the module fails.
    func forward(_ x: Variable, _ bindings: ParameterBindings, mode: Mode) throws -> Variable
    /// The modules inside this one (a Sequential's layers, a transformer's blocks and norms).
    var children: [Module] { get }
}

extension Module {
    public var buffers: [Buffer] { [] }
    public var children: [Module] { [] }

    /// Every module inside this one, depth first (not this one itself): how the runtime finds
    /// the normalizer layers wherever a model keeps them.
    public var descendants: [Module] { children.flatMap { [$0] + $0.descendants } }
}

/// A named tensor a module keeps between passes without training it (e.g. a running mean).
/// Its storage is shared with the C views handed to normalizer plugins.
public final class Buffer {
    public let name: String
    public let shape: [Int]
    public let storage: TensorStorage
    public init(name: String, shape: [Int], storage: TensorStorage) {
        precondition(storage.count == shape.reduce(1, *), "buffer \(name): storage of \(storage.count) for \(shape)")
        self.name = name; self.shape = shape; self.storage = storage
    }
    public var value: Tensor { Tensor(shape: shape, storage: storage) }
}

/// The leaf variables of one forward pass, one per parameter, so gradients can be read back.
public final class ParameterBindings {
    private var byIdentity: [ObjectIdentifier: Variable] = [:]
    public private(set) var ordered: [(Parameter, Variable)] = []
    /// The random stream of this pass (dropout masks). A re-evaluation of the same batch
    /// passes a copy of the same stream, so it sees the same masks.
    public var rng = RandomStream(seed: 0, stream: "dropout")
    /// Whether train-mode normalizers update their running statistics in this pass; false for
    /// re-evaluations (loss, HVP, evaluate_at) so a service call leaves the model as it was.
    public var updatesStatistics = true
    /// When true, `Sequential` records each layer's input and output (forward hooks) in
    /// `activations`, keyed by layer name (`layers.0`).
    public var recordsActivations = false
    public var activations: [(module: String, input: Variable, output: Variable)] = []

    public init(_ parameters: [Parameter]) {
        for p in parameters { bind(p, p.variable()) }
    }

    /// Binds each parameter to another value (re-evaluation at perturbed parameters).
    public init(_ parameters: [Parameter], values: [Tensor]) {
        precondition(parameters.count == values.count, "one value per parameter")
        for (p, v) in zip(parameters, values) {
            precondition(p.shape == v.shape, "\(p.name): value of shape \(v.shape), expected \(p.shape)")
            bind(p, Variable(v, requiresGrad: true))
        }
    }

    /// Binds `p` to another value for this pass (a leaf that wants gradients); returns the leaf.
    @discardableResult
    public func replace(_ p: Parameter, with value: Tensor) -> Variable {
        precondition(p.shape == value.shape, "\(p.name): value of shape \(value.shape), expected \(p.shape)")
        let v = Variable(value, requiresGrad: true)
        byIdentity[ObjectIdentifier(p)] = v
        if let i = ordered.firstIndex(where: { $0.0 === p }) { ordered[i].1 = v } else { ordered.append((p, v)) }
        return v
    }

    private func bind(_ p: Parameter, _ v: Variable) {
        byIdentity[ObjectIdentifier(p)] = v
        ordered.append((p, v))
    }

    public subscript(_ p: Parameter) -> Variable {
        guard let v = byIdentity[ObjectIdentifier(p)] else { preconditionFailure("parameter \(p.name) is not bound") }
        return v
    }

    public var variables: [Variable] { ordered.map(\.1) }
}

/// y = x·Wᵀ + b with W stored (out, in), initialised like torch.nn.Linear:
/// W and b uniform in ±1/√in.
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inputs: Int, _ outputs: Int, bias: Bool = true, name: String, rng: inout RandomStream, role: ParameterRole = .matrix) {
        let bound = 1 / Float(inputs).squareRoot()
        func uniform(_ n: Int) -> [Float] { (0..<n).map { _ in (rng.uniform() * 2 - 1) * bound } }
        // The output layer stays dense under pruning, as most pruning protocols keep it.
        weight = Parameter(name: name + "weight", role: role, value: Tensor(shape: [outputs, inputs], scalars: uniform(outputs * inputs)),
                           prunable: role != .head)
        self.bias = bias ? Parameter(name: name + "bias", role: .bias, value: Tensor(shape: [outputs], scalars: uniform(outputs))) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) throws -> Variable {
        let y = matmul(x, b[weight], transposeB: true)
        return bias.map { y + b[$0] } ?? y
    }
}

/// An element-wise activation.
public final class Activation: Module {
    public enum Kind: String, Sendable { case relu, tanh, sigmoid }
    public let kind: Kind
    public init(_ kind: Kind) { self.kind = kind }
    public var parameters: [Parameter] { [] }
    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) throws -> Variable {
        switch kind {
        case .relu: return x.relu()
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        }
    }
}

/// Modules applied in order; parameters are named `layers.<index>.<name>`.
public final class Sequential: Module {
    public let layers: [Module]
    public init(_ layers: [Module]) { self.layers = layers }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var buffers: [Buffer] { layers.flatMap(\.buffers) }
    public var children: [Module] { layers }
    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) throws -> Variable {
        var y = x
        for (i, layer) in layers.enumerated() {
            let input = y
            y = try layer.forward(y, b, mode: mode)
            if b.recordsActivations { b.activations.append(("layers.\(i)", input, y)) }
        }
        return y
    }

}
