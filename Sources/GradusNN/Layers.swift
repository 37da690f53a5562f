import GradusCore

/// 2-D convolution over NCHW input with weight (out, in, k, k), initialised like
/// torch.nn.Conv2d: weight and bias uniform in ±1/√(in·k·k).
public final class Conv2d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Int
    public let padding: Int

    public init(_ inputs: Int, _ outputs: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                name: String, rng: inout RandomStream) {
        let fanIn = inputs * kernel * kernel
        let bound = 1 / Float(fanIn).squareRoot()
        func uniform(_ n: Int) -> [Float] { (0..<n).map { _ in (rng.uniform() * 2 - 1) * bound } }
        weight = Parameter(name: name + "weight", role: .matrix,
                           value: Tensor(shape: [outputs, inputs, kernel, kernel], scalars: uniform(outputs * fanIn)), prunable: true)
        self.bias = bias ? Parameter(name: name + "bias", role: .bias, value: Tensor(shape: [outputs], scalars: uniform(outputs))) : nil
        self.stride = stride
        self.padding = padding
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) throws -> Variable {
        conv2d(x, weight: b[weight], bias: bias.map { b[$0] }, stride: stride, padding: padding)
    }
}

/// Max or average pooling over NCHW windows.
public final class Pool2d: Module {
    public enum Kind: String, Sendable { case max, average }
    public let kind: Kind
    public let kernel: Int, stride: Int, padding: Int
    public init(_ kind: Kind, kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kind = kind; self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
    }
    public var parameters: [Parameter] { [] }
    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) throws -> Variable {
        kind == .max ? maxPool2d(x, kernel: kernel, stride: stride, padding: padding)
                     : avgPool2d(x, kernel: kernel, stride: stride, padding: padding)
    }
}

/// Reshapes each sample: [N, ...] → [N] + shape (flattening when shape is one number).
public final class Reshape: Module {
    public let sampleShape: [Int]
    public init(_ sampleShape: [Int]) { self.sampleShape = sampleShape }
    public var parameters: [Parameter] { [] }
    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) throws -> Variable {
        x.reshaped([x.shape[0]] + sampleShape)
    }
}

/// Inverted dropout in train mode (masks drawn from the pass's stream); identity in eval mode.
public final class Dropout: Module {
    public let probability: Float
    public init(_ probability: Float) {
        precondition(probability >= 0 && probability < 1, "dropout probability \(probability) outside [0, 1)")
        self.probability = probability
    }
    public var parameters: [Parameter] { [] }
    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) throws -> Variable {
        mode == .train ? dropout(x, p: probability, rng: &b.rng) : x
    }
}
