import GradusCore

/// Train or eval behaviour (dropout, normalizer statistics).
public enum Mode: Sendable { case train, eval }

/// A differentiable function with named parameters.
public protocol Module: AnyObject {
    /// Every parameter, named from this module down (`0.weight`, `1.bias`, ...).
    var parameters: [Parameter] { get }
    /// y = f(x). `bindings` gives the leaf variable to use for each parameter in this pass.
    func forward(_ x: Variable, _ bindings: ParameterBindings, mode: Mode) -> Variable
}

/// The leaf variables of one forward pass, one per parameter, so gradients can be read back.
public final class ParameterBindings {
    private var byIdentity: [ObjectIdentifier: Variable] = [:]
    public private(set) var ordered: [(Parameter, Variable)] = []

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

    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) -> Variable {
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
    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) -> Variable {
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
    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) -> Variable {
        layers.reduce(x) { $1.forward($0, b, mode: mode) }
    }

    /// An MLP: Linear/ReLU pairs, the last Linear marked as the head.
    public static func mlp(_ sizes: [Int], seed: UInt64) -> Sequential {
        precondition(sizes.count >= 2, "an MLP needs at least input and output sizes")
        var rng = RandomStream(seed: seed, stream: "init")
        var layers: [Module] = []
        for i in 0..<(sizes.count - 1) {
            let last = i == sizes.count - 2
            layers.append(Linear(sizes[i], sizes[i + 1], name: "layers.\(layers.count).", rng: &rng, role: last ? .head : .matrix))
            if !last { layers.append(Activation(.relu)) }
        }
        return Sequential(layers)
    }
}
