/// Whether operations on variables are recorded for differentiation (per thread of use;
/// Gradus runs one training loop per thread).
public enum GradMode {
    nonisolated(unsafe) static var recording = true

    /// Runs `body` with recording switched on or off, restoring the previous mode.
    public static func with<R>(recording on: Bool, _ body: () throws -> R) rethrows -> R {
        let saved = recording
        recording = on
        defer { recording = saved }
        return try body()
    }
}

/// A node of the define-by-run graph: a value, and how to pull a gradient back to its inputs.
/// Pullbacks are written with differentiable operations, so a backward pass recorded with
/// `createGraph: true` can itself be differentiated (Hessian-vector products).
public final class Variable {
    public let value: Tensor
    /// Leaves that want gradients, and every result computed from one while recording.
    public let requiresGrad: Bool
    private(set) var inputs: [Variable]
    private(set) var pullback: ((Variable) -> [Variable?])?

    /// A leaf (a parameter when `requiresGrad`, a constant otherwise).
    public init(_ value: Tensor, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
        inputs = []
        pullback = nil
    }

    init(_ value: Tensor, inputs: [Variable], pullback: @escaping (Variable) -> [Variable?]) {
        self.value = value
        requiresGrad = true
        self.inputs = inputs
        self.pullback = pullback
    }

    public var shape: [Int] { value.shape }

    /// Releases the graph behind this node iteratively: a chain of millions of recorded
    /// operations would otherwise overflow the stack through nested deinitialisers.
    deinit {
        guard !inputs.isEmpty || pullback != nil else { return }
        var stack: [Variable] = []
        Variable.detach(self, into: &stack)
        while var node = stack.popLast() {
            if isKnownUniquelyReferenced(&node) { Variable.detach(node, into: &stack) }
        }
    }

    private static func detach(_ v: Variable, into stack: inout [Variable]) {
        v.pullback = nil            // the closure may hold the inputs too
        stack.append(contentsOf: v.inputs)
        v.inputs = []
    }

    /// An operation defined outside the core (e.g. a normalizer plugin's kernel form): `pullback`
    /// maps the output gradient to one gradient per input. Differentiating it again is only
    /// correct when the pullback is itself written with differentiable ops.
    /// A pullback that throws records its error (see `Autodiff.takeFailure`) and passes no gradient.
    public static func custom(_ value: Tensor, inputs: [Variable], pullback: @escaping (Variable) throws -> [Variable?]) -> Variable {
        result(value, inputs) { g in
            do { return try pullback(g) } catch {
                Autodiff.recordFailure(error)
                return inputs.map { _ in nil }
            }
        }
    }

    /// The result of an operation: recorded when recording is on and an input needs gradients.
    static func result(_ value: Tensor, _ inputs: [Variable], _ pullback: @escaping (Variable) -> [Variable?]) -> Variable {
        guard GradMode.recording, inputs.contains(where: \.requiresGrad) else { return Variable(value) }
        return Variable(value, inputs: inputs, pullback: pullback)
    }
}

/// Reverse-mode differentiation.
public enum Autodiff {
    nonisolated(unsafe) private static var failure: Error?

    static func recordFailure(_ error: Error) { if failure == nil { failure = error } }

    /// The first error a custom pullback threw since the last call (then cleared).
    public static func takeFailure() -> Error? {
        defer { failure = nil }
        return failure
    }

    /// `gradients(of:wrt:)`, throwing the first error a custom op's pullback reported.
    public static func checkedGradients(of output: Variable, wrt: [Variable], createGraph: Bool = false) throws -> [Variable] {
        _ = takeFailure()
        let g = gradients(of: output, wrt: wrt, createGraph: createGraph)
        if let error = takeFailure() { throw error }
        return g
    }

    /// d(output)/d(each of `wrt`), seeded with `seed` (ones when nil; output must then have one element).
    /// With `createGraph`, the backward pass is recorded so the results can be differentiated again.
    public static func gradients(of output: Variable, wrt: [Variable], seed: Variable? = nil,
                                 createGraph: Bool = false) -> [Variable] {
        precondition(seed != nil || output.value.count == 1, "gradients of a non-scalar output need a seed")
        let order = topologicalOrder(output)
        var grads: [ObjectIdentifier: Variable] = [:]
        grads[ObjectIdentifier(output)] = seed ?? Variable(Tensor(shape: output.shape, repeating: 1))
        GradMode.with(recording: createGraph) {
            for node in order.reversed() {
                guard let pullback = node.pullback, let g = grads[ObjectIdentifier(node)] else { continue }
                for (input, d) in zip(node.inputs, pullback(g)) {
                    guard input.requiresGrad, let d else { continue }
                    let key = ObjectIdentifier(input)
                    grads[key] = grads[key].map { $0 + d } ?? d
                }
            }
        }
        return wrt.map { grads[ObjectIdentifier($0)] ?? Variable(Tensor(shape: $0.shape, repeating: 0)) }
    }

    /// Hessian-vector products: (∂²L/∂θ²)·v for each parameter, by differentiating ⟨∇L, v⟩.
    /// `loss` must have been computed while recording.
    public static func hessianVectorProduct(of loss: Variable, wrt params: [Variable], vectors: [Tensor]) -> [Tensor] {
        precondition(params.count == vectors.count, "one vector per parameter")
        let g = gradients(of: loss, wrt: params, createGraph: true)
        let dot = GradMode.with(recording: true) {
            zip(g, vectors).map { ($0 * Variable($1)).sum() }.reduce(Variable(Tensor(0)), +)
        }
        return gradients(of: dot, wrt: params).map(\.value)
    }

    /// Nodes reachable from `root` that need gradients, inputs before their users.
    static func topologicalOrder(_ root: Variable) -> [Variable] {
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Bool)] = [(root, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            guard node.requiresGrad, visited.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append((node, true))
            for input in node.inputs where input.requiresGrad { stack.append((input, false)) }
        }
        return order
    }
}
