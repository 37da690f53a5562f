import GradusCore

/// Where a transformer block normalizes (Xiong et al. 2020 compare post- and pre-LN; Peri-LN,
/// Kim et al. 2025, normalizes each sub-layer's input and output).
public enum NormPlacement: String, Sendable, CaseIterable {
    /// x = N(x + F(x)) (the original transformer).
    case post
    /// x = x + F(N(x)), and a final normalization before the head (GPT-2).
    case pre
    /// x = x + N_out(F(N_in(x))), and a final normalization before the head.
    case peri
}

/// A decoder-only transformer over token ids: token and position embeddings, `layers` blocks
/// of multi-head causal self-attention and a GELU MLP (width 4·d_model) with residual
/// connections, the normalization slots of `placement` filled by `normalization` (identity
/// when nil), and a linear head (no bias) to the vocabulary, optionally tied to the token
/// embedding. Input: [B, T] token ids stored as floats; output: logits [B·T, V] for every
/// position, or [B, V] for the last one. Parameters are named `embed.token.weight`,
/// `blocks.<i>.attn.q.weight`, …, `head.weight`.
public final class Transformer: Module {
    public struct Shape: Sendable, Equatable {
        public var vocabulary: Int
        public var context: Int
        public var dModel: Int
        public var heads: Int
        public var layers: Int
        public init(vocabulary: Int, context: Int, dModel: Int, heads: Int, layers: Int) {
            (self.vocabulary, self.context, self.dModel, self.heads, self.layers) = (vocabulary, context, dModel, heads, layers)
        }
    }

    public let shape: Shape
    public let placement: NormPlacement
    /// Logits for the last position only (sequence classification, e.g. modular addition).
    public let lastPositionOnly: Bool
    public let tokenEmbedding: Parameter
    public let positionEmbedding: Parameter
    public let blocks: [TransformerBlock]
    public let finalNorm: Module?
    /// The head's weight [V, D]; the token embedding itself when tied.
    public let head: Parameter
    public let tied: Bool

    public init(_ shape: Shape, placement: NormPlacement = .pre, tied: Bool = false, lastPositionOnly: Bool = false, seed: UInt64,
                normalization: NormalizationFactory? = nil) throws {
        precondition(shape.dModel % shape.heads == 0, "d_model \(shape.dModel) is not a multiple of heads \(shape.heads)")
        self.shape = shape
        self.placement = placement
        self.lastPositionOnly = lastPositionOnly
        self.tied = tied
        var rng = RandomStream(seed: seed, stream: "init")
        // GPT-2's initialisation: embeddings N(0, 0.02²).
        func normal(_ n: Int) -> [Float] { (0..<n).map { _ in rng.normal() * 0.02 } }
        tokenEmbedding = Parameter(name: "embed.token.weight", role: .embedding,
                                   value: Tensor(shape: [shape.vocabulary, shape.dModel], scalars: normal(shape.vocabulary * shape.dModel)))
        positionEmbedding = Parameter(name: "embed.position.weight", role: .embedding,
                                      value: Tensor(shape: [shape.context, shape.dModel], scalars: normal(shape.context * shape.dModel)))
        blocks = try (0..<shape.layers).map { i in
            try TransformerBlock(shape, placement: placement, name: "blocks.\(i).", rng: &rng, normalization: normalization)
        }
        finalNorm = placement == .post ? nil : try normalization?("final_norm.", [shape.dModel], 1)
        head = tied ? tokenEmbedding : Linear(shape.dModel, shape.vocabulary, bias: false, name: "head.", rng: &rng, role: .head).weight
    }

    public var parameters: [Parameter] {
        [tokenEmbedding, positionEmbedding] + blocks.flatMap(\.parameters) + (finalNorm?.parameters ?? []) + (tied ? [] : [head])
    }
    public var buffers: [Buffer] { blocks.flatMap(\.buffers) + (finalNorm?.buffers ?? []) }
    public var children: [Module] { blocks + (finalNorm.map { [$0] } ?? []) }

    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) throws -> Variable {
        precondition(x.value.rank == 2, "a transformer reads [B, T] token ids, got \(x.shape)")
        let (batch, t) = (x.shape[0], x.shape[1])
        precondition(t <= shape.context, "sequence length \(t) exceeds the context \(shape.context)")
        let ids = x.value.scalars.map { Int($0) }
        let positions = (0..<(batch * t)).map { $0 % t }
        var h = b[tokenEmbedding].gatherRows(ids) + b[positionEmbedding].gatherRows(positions)
        let mask = Variable(causalMask(t))
        for block in blocks { h = try block.forward(h, b, mode: mode, batch: batch, length: t, mask: mask) }
        if let finalNorm { h = try finalNorm.forward(h, b, mode: mode) }
        if lastPositionOnly { h = h.gatherRows((0..<batch).map { $0 * t + t - 1 }) }
        return matmul(h, b[head], transposeB: true)
    }
}

/// One transformer block: causal self-attention and an MLP, each a residual branch.
public final class TransformerBlock: Module {
    public let q: Linear, k: Linear, v: Linear, o: Linear
    public let fc1: Linear, fc2: Linear
    /// Normalization before/after each branch as `placement` wants (nil: identity).
    public let attentionIn: Module?, attentionOut: Module?, mlpIn: Module?, mlpOut: Module?
    public let heads: Int
    public let placement: NormPlacement

    init(_ shape: Transformer.Shape, placement: NormPlacement, name: String, rng: inout RandomStream,
         normalization: NormalizationFactory?) throws {
        let d = shape.dModel
        heads = shape.heads
        self.placement = placement
        q = Linear(d, d, name: name + "attn.q.", rng: &rng)
        k = Linear(d, d, name: name + "attn.k.", rng: &rng)
        v = Linear(d, d, name: name + "attn.v.", rng: &rng)
        o = Linear(d, d, name: name + "attn.o.", rng: &rng)
        fc1 = Linear(d, 4 * d, name: name + "mlp.fc1.", rng: &rng)
        fc2 = Linear(4 * d, d, name: name + "mlp.fc2.", rng: &rng)
        func slot(_ part: String) throws -> Module? { try normalization?(name + part + ".", [d], 1) }
        switch placement {
        case .pre: (attentionIn, attentionOut, mlpIn, mlpOut) = (try slot("norm1"), nil, try slot("norm2"), nil)
        case .post: (attentionIn, attentionOut, mlpIn, mlpOut) = (nil, try slot("norm1"), nil, try slot("norm2"))
        case .peri: (attentionIn, attentionOut, mlpIn, mlpOut) = (try slot("norm1_in"), try slot("norm1_out"), try slot("norm2_in"), try slot("norm2_out"))
        }
    }

    var norms: [Module] { [attentionIn, attentionOut, mlpIn, mlpOut].compactMap { $0 } }
    public var parameters: [Parameter] {
        // Each branch's own parameters, then its normalizations', in forward order.
        [q, k, v, o].flatMap(\.parameters) + [attentionIn, attentionOut].compactMap { $0 }.flatMap(\.parameters)
            + [fc1, fc2].flatMap(\.parameters) + [mlpIn, mlpOut].compactMap { $0 }.flatMap(\.parameters)
    }
    public var buffers: [Buffer] { norms.flatMap(\.buffers) }
    public var children: [Module] { [q, k, v, o, fc1, fc2] + norms }

    /// Not called directly: the block needs the batch geometry (see `forward(_:_:mode:batch:length:mask:)`).
    public func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode) throws -> Variable {
        preconditionFailure("TransformerBlock.forward needs the batch geometry; Transformer calls forward(_:_:mode:batch:length:mask:)")
    }

    /// x [B·T, D] → [B·T, D].
    func forward(_ x: Variable, _ b: ParameterBindings, mode: Mode, batch: Int, length t: Int, mask: Variable) throws -> Variable {
        func apply(_ m: Module?, _ h: Variable) throws -> Variable { try m?.forward(h, b, mode: mode) ?? h }
        func attention(_ h: Variable) throws -> Variable {
            let d = h.shape[1], dh = d / heads
            // [B·T, D] → [B, T, H, Dh] → [B, H, T, Dh] → [B·H, T, Dh]
            func split(_ y: Variable) -> Variable { y.reshaped([batch, t, heads, dh]).permuted([0, 2, 1, 3]).reshaped([batch * heads, t, dh]) }
            let (qh, kh, vh) = (split(try q.forward(h, b, mode: mode)), split(try k.forward(h, b, mode: mode)), split(try v.forward(h, b, mode: mode)))
            let scores = batchedMatmul(qh, kh, transposeB: true) * Float(1 / Double(dh).squareRoot()) + mask
            let mixed = batchedMatmul(scores.softmax(), vh).reshaped([batch, heads, t, dh]).permuted([0, 2, 1, 3]).reshaped([batch * t, d])
            return try o.forward(mixed, b, mode: mode)
        }
        func mlp(_ h: Variable) throws -> Variable { try fc2.forward(try fc1.forward(h, b, mode: mode).gelu(), b, mode: mode) }
        switch placement {
        case .pre:
            let h = x + (try attention(try apply(attentionIn, x)))
            return h + (try mlp(try apply(mlpIn, h)))
        case .post:
            let h = try apply(attentionOut, x + (try attention(x)))
            return try apply(mlpOut, h + (try mlp(h)))
        case .peri:
            let h = x + (try apply(attentionOut, try attention(try apply(attentionIn, x))))
            return h + (try apply(mlpOut, try mlp(try apply(mlpIn, h))))
        }
    }
}
