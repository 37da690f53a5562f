import GradusPluginKit

/// Graph form: the same function from host ops (gradients of every order); running statistics
/// are written with the host's `assign` op, which the host skips when it re-evaluates a batch.
extension BatchNorm {
    func buildGraph(mode: NormalizerMode, graph g: GraphBuilder, x: gradus_node, parameters p: [gradus_node],
                    buffers b: [gradus_node]) throws -> gradus_node {
        let axes = [0] + Array(2..<rank)
        let perChannel = [1, channels] + Array(repeating: 1, count: rank - 2)
        let y: gradus_node
        if mode == .train {
            let mean = try g.reduce("mean", x, axes: axes)
            let centered = try g.op("sub", x, mean)
            let squares = try g.op("square", centered)
            let variance = try g.reduce("mean", squares, axes: axes)
            y = try g.op("mul", centered, g.op("rsqrt", g.affine(variance, shift: eps)))
            let unbiased = try g.op("mean", squares, attributes: ["axes": .text(axes.map(String.init).joined(separator: ",")), "correction": .number(1)])
            for (buffer, batch) in [(b[0], mean), (b[1], unbiased)] {
                let blended = try g.op("add", g.affine(buffer, scale: 1 - momentum), g.affine(g.reshape(batch, [channels]), scale: momentum))
                _ = try g.op("assign", buffer, blended)
            }
        } else {
            let centered = try g.op("sub", x, g.reshape(b[0], perChannel))
            y = try g.op("mul", centered, g.op("rsqrt", g.affine(g.reshape(b[1], perChannel), shift: eps)))
        }
        guard affine else { return y }
        return try g.op("add", g.op("mul", y, g.reshape(p[0], perChannel)), g.reshape(p[1], perChannel))
    }
}
