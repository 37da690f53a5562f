import GradusCore

/// A basic residual block (He et al. 2016): conv 3×3 (stride s) → [norm] → ReLU → conv 3×3 →
/// [norm], added to the shortcut (the input, or a 1×1 convolution with stride s when the shape
/// changes), then ReLU. With a ReZero gate (Bachlechner et al. 2021) the branch is scaled by a
/// learned scalar that starts at 0, so every block starts as the identity.
public final class ResidualBlock: Module {
    public let conv1: Conv2d, conv2: Conv2d
    public let norm1: Module?, norm2: Module?
    public let projection: Conv2d?
    public let gate: Parameter?

    /// `shape` is the input sample's [C, H, W]; the output has `outputs` channels and is halved
    /// in H and W when `stride` is 2.
    public init(_ shape: [Int], outputs: Int, stride: Int, name: String, rezero: Bool, rng: inout RandomStream,
                normalization: NormalizationFactory?) throws {
        let (c, h, w) = (shape[0], shape[1], shape[2])
        let (oh, ow) = ((h - 1) / stride + 1, (w - 1) / stride + 1)
        conv1 = Conv2d(c, outputs, kernel: 3, stride: stride, padding: 1, name: name + "conv1.", rng: &rng)
        norm1 = try normalization?(name + "norm1.", [outputs, oh, ow], 1)
        conv2 = Conv2d(outputs, outputs, kernel: 3, padding: 1, name: name + "conv2.", rng: &rng)
        norm2 = try normalization?(name + "norm2.", [outputs, oh, ow], 1)
        projection = stride != 1 || c != outputs ? Conv2d(c, outputs, kernel: 1, stride: stride, bias: false, name: name + "shortcut.", rng: &rng) : nil
        gate = rezero ? Parameter(name: name + "gate", role: .vector, value: Tensor(shape: [1], repeating: 0)) : nil
    }

    public var parameters: [Parameter] {
        conv1.parameters + (norm1?.parameters ?? []) + conv2.parameters + (norm2?.parameters ?? []) + (projection?.parameters ?? [])
            + (gate.map { [$0] } ?? [])
    }
    public var buffers: [Buffer] { (norm1?.buffers ?? []) + (norm2?.buffers ?? []) }
    public var children: [Module] { [conv1, conv2] + [norm1, norm2].compactMap { $0 } + (projection.map { [$0] } ?? []) }

    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) throws -> Variable {
        func apply(_ m: Module?, _ v: Variable) throws -> Variable { try m?.forward(v, b, mode: mode) ?? v }
        var branch = try apply(norm1, try conv1.forward(x, b, mode: mode)).relu()
        branch = try apply(norm2, try conv2.forward(branch, b, mode: mode))
        if let gate { branch = branch * b[gate] }
        let shortcut = try projection?.forward(x, b, mode: mode) ?? x
        return (shortcut + branch).relu()
    }
}

/// The mean over each channel's spatial positions: [N, C, H, W] → [N, C].
public final class GlobalAveragePool: Module {
    public init() {}
    public var parameters: [Parameter] { [] }
    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) throws -> Variable {
        let (n, c) = (x.shape[0], x.shape[1]), hw = x.shape.dropFirst(2).reduce(1, *)
        return (x.reshaped([n, c, hw]).sum(to: [n, c, 1]) * (1 / Float(hw))).reshaped([n, c])
    }
}

extension Sequential {
    /// A ResNet for [C, H, W] images: a 3×3 stem convolution to `channels[0]` ([norm], ReLU),
    /// then one stage per entry of `channels` with `blocks` basic residual blocks each (the first
    /// block of every later stage halves H and W with stride 2), global average pooling and a
    /// dense head.
    public static func resnet(image: [Int], channels: [Int], blocks: Int, classes: Int, seed: UInt64, rezero: Bool = false,
                              normalization: NormalizationFactory? = nil) throws -> Sequential {
        precondition(image.count == 3 && !channels.isEmpty && blocks >= 1, "resnet needs an image shape [C, H, W], channels and blocks")
        var rng = RandomStream(seed: seed, stream: "init")
        var layers: [Module] = [Reshape(image)]
        func prefix() -> String { "layers.\(layers.count)." }
        var shape = [channels[0], image[1], image[2]]
        layers.append(Conv2d(image[0], channels[0], kernel: 3, padding: 1, name: prefix(), rng: &rng))
        if let normalization { layers.append(try normalization(prefix(), shape, 1)) }
        layers.append(Activation(.relu))
        for (stage, width) in channels.enumerated() {
            for block in 0..<blocks {
                let stride = stage > 0 && block == 0 && shape[1] >= 2 && shape[2] >= 2 ? 2 : 1
                let residual = try ResidualBlock(shape, outputs: width, stride: stride, name: prefix(), rezero: rezero, rng: &rng,
                                                 normalization: normalization)
                layers.append(residual)
                shape = [width, (shape[1] - 1) / stride + 1, (shape[2] - 1) / stride + 1]
            }
        }
        layers.append(GlobalAveragePool())
        layers.append(Linear(shape[0], classes, name: prefix(), rng: &rng, role: .head))
        return Sequential(layers)
    }
}
