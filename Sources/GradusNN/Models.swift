import GradusCore

/// Makes the normalization layer for a slot: `name` is its prefix (`layers.1.`), `sampleShape`
/// one sample's shape at that point (batch axis excluded), `channelAxis` the feature axis of
/// the batched input. The runtime fills slots with normalizer plugins.
public typealias NormalizationFactory = (_ name: String, _ sampleShape: [Int], _ channelAxis: Int) throws -> Module

/// The built-in architectures.
extension Sequential {
    /// An MLP: Linear, [normalization], ReLU, [dropout] per hidden layer; the last Linear is the head.
    public static func mlp(_ sizes: [Int], seed: UInt64, dropout: Float = 0,
                           normalization: NormalizationFactory? = nil) throws -> Sequential {
        precondition(sizes.count >= 2, "an MLP needs at least input and output sizes")
        var rng = RandomStream(seed: seed, stream: "init")
        var layers: [Module] = []
        func prefix() -> String { "layers.\(layers.count)." }
        for i in 0..<(sizes.count - 1) {
            let last = i == sizes.count - 2
            layers.append(Linear(sizes[i], sizes[i + 1], name: prefix(), rng: &rng, role: last ? .head : .matrix))
            if last { break }
            if let normalization { layers.append(try normalization(prefix(), [sizes[i + 1]], 1)) }
            layers.append(Activation(.relu))
            if dropout > 0 { layers.append(Dropout(dropout)) }
        }
        return Sequential(layers)
    }

    /// A LeNet-style CNN for [C, H, W] images: per entry of `channels`, a 3×3 convolution
    /// (padding 1), [normalization], ReLU and 2×2 max pooling; then an MLP head over the
    /// flattened maps with `hidden` layers.
    public static func lenet(image: [Int], channels: [Int], hidden: [Int], classes: Int, seed: UInt64,
                             dropout: Float = 0, normalization: NormalizationFactory? = nil) throws -> Sequential {
        precondition(image.count == 3, "lenet needs an image shape [C, H, W]")
        var rng = RandomStream(seed: seed, stream: "init")
        var layers: [Module] = [Reshape(image)]
        func prefix() -> String { "layers.\(layers.count)." }
        var (c, h, w) = (image[0], image[1], image[2])
        for out in channels {
            layers.append(Conv2d(c, out, kernel: 3, padding: 1, name: prefix(), rng: &rng))
            if let normalization { layers.append(try normalization(prefix(), [out, h, w], 1)) }
            layers.append(Activation(.relu))
            guard h >= 2, w >= 2 else { c = out; continue }
            layers.append(Pool2d(.max, kernel: 2))
            (c, h, w) = (out, h / 2, w / 2)
        }
        layers.append(Reshape([c * h * w]))
        var width = c * h * w
        for (i, size) in (hidden + [classes]).enumerated() {
            let last = i == hidden.count
            layers.append(Linear(width, size, name: prefix(), rng: &rng, role: last ? .head : .matrix))
            width = size
            if last { break }
            layers.append(Activation(.relu))
            if dropout > 0 { layers.append(Dropout(dropout)) }
        }
        return Sequential(layers)
    }
}
