import CGradusABI
import GradusCore

/// The metamorphic test kit applied to any plugin (docs/ABI.md; SDK/README.md): properties every
/// strategy of a kind must have, checked through the same host paths a run uses.
public enum PluginCheck {
    /// The outcome of one property.
    public struct Result: Sendable {
        public let name: String
        /// nil: the property does not apply (the detail says why).
        public let passed: Bool?
        public let detail: String
        public init(name: String, passed: Bool?, detail: String) { self.name = name; self.passed = passed; self.detail = detail }
    }

    /// One property, not yet run: `run` calls into the plugin (so a crashing plugin takes down
    /// whatever process runs it; `gradus plugins check` runs each in a child process).
    public struct Check {
        public let name: String
        public let run: () -> Result
    }

    /// The checks that apply to `strategy`'s kind, in order, without running them.
    public static func checks(for strategy: StrategyDescriptor) -> [Check] {
        switch strategy.kind {
        case .optimizer: return optimizerChecks(strategy)
        case .normalizer: return normalizerChecks(strategy)
        case .pruner: return prunerChecks(strategy)
        case .function:
            guard case let .function(signature, _, _) = strategy.vtable else { return [] }
            return [Check(name: "signature parses") { Result(name: "signature parses", passed: true, detail: signature.description) }]
        }
    }

    /// Runs every applicable check on `strategy` in this process.
    public static func run(_ strategy: StrategyDescriptor) -> [Result] { checks(for: strategy).map { $0.run() } }

    // MARK: optimizers

    /// A vector and a matrix with fixed, varied values (for MATRIX_ONLY optimizers a tall matrix
    /// instead of the vector).
    static func parameters(matrixOnly: Bool = false) -> [HostParameter] {
        var rng = RandomStream(seed: 11, stream: "check")
        let first = matrixOnly ? HostParameter(name: "tall.weight", role: .matrix, shape: [5, 2], values: (0..<10).map { _ in rng.normal() })
            : HostParameter(name: "vector", role: .vector, shape: [5], values: (0..<5).map { _ in rng.normal() })
        return [first, HostParameter(name: "layer.weight", role: .matrix, shape: [3, 4], values: (0..<12).map { _ in rng.normal() })]
    }

    /// Runs `steps` steps with gradients from `gradient(step, parameter index)`; returns the final values.
    static func trajectory(_ s: StrategyDescriptor, _ settings: [(String, String)], steps: Int,
                           parameters ps: [HostParameter]? = nil, session existing: OptimizerSession? = nil,
                           gradient: (Int, Int, Int) -> [Float]) throws -> (OptimizerSession, [[Float]]) {
        let session: OptimizerSession
        if let existing {
            session = existing
        } else {
            session = try OptimizerSession(strategy: s, hyperparameters: HyperparameterSet(schema: s.hyperparameters, overrides: settings,
                                                                                         owner: s.id), parameters: ps ?? parameters(matrixOnly: s.capabilities & HostCapabilities.matrixOnlyBit != 0))
        }
        for _ in 0..<steps {
            for (i, p) in session.parameters.enumerated() { p.grad.values = gradient(Int(session.stepCount), i, p.value.count) }
            try session.step(loss: 1)
        }
        return (session, session.parameters.map(\.value.values))
    }

    static func randomGradient(_ step: Int, _ param: Int, _ n: Int) -> [Float] {
        var rng = RandomStream(seed: UInt64(step * 31 + param), stream: "grad")
        return (0..<n).map { _ in rng.normal() }
    }

    static func check(_ name: String, _ body: @escaping () throws -> (Bool?, String)) -> Check {
        Check(name: name) {
            do {
                let (ok, detail) = try body()
                return Result(name: name, passed: ok, detail: detail)
            } catch {
                return Result(name: name, passed: false, detail: "\(error)")
            }
        }
    }

    static func bitEqual(_ a: [[Float]], _ b: [[Float]]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in x.count == y.count && zip(x, y).allSatisfy { $0.bitPattern == $1.bitPattern } }
    }

    static func optimizerChecks(_ s: StrategyDescriptor) -> [Check] {
        let initial = parameters(matrixOnly: s.capabilities & HostCapabilities.matrixOnlyBit != 0).map(\.value.values)
        let hasLR = s.hyperparameters.contains { $0.id == "lr" && $0.type == .real && $0.accepts(.real(0)) }
        let decoupled = s.capabilities & HostCapabilities.decoupledDecayBit != 0
        return [
            check("zero gradient is a no-op") {
                // Decoupled weight decay moves parameters without a gradient: check with it off.
                var settings: [(String, String)] = []
                if decoupled {
                    guard s.hyperparameters.contains(where: { $0.id == "weight_decay" && $0.accepts(.real(0)) }) else {
                        return (nil, "declares decoupled weight decay but has no 'weight_decay' that accepts 0")
                    }
                    settings = [("weight_decay", "0")]
                }
                let (_, x) = try trajectory(s, settings, steps: 3) { _, _, n in Array(repeating: 0, count: n) }
                return (bitEqual(x, initial), "parameters after 3 zero-gradient steps" + (decoupled ? " with weight_decay=0" : ""))
            },
            check("lr = 0 does not move") {
                guard hasLR else { return (nil, "no real hyperparameter 'lr' that accepts 0") }
                let (_, x) = try trajectory(s, [("lr", "0")], steps: 3, gradient: randomGradient)
                return (bitEqual(x, initial), "parameters after 3 steps with lr=0")
            },
            check("same inputs give the same bits") {
                let (_, a) = try trajectory(s, [], steps: 5, gradient: randomGradient)
                let (_, b) = try trajectory(s, [], steps: 5, gradient: randomGradient)
                return (bitEqual(a, b), "two instances, 5 steps each")
            },
            check("parameters are updated independently") {
                if s.capabilities & HostCapabilities.globalViewBit != 0 { return (nil, "declares a global view") }
                let (_, together) = try trajectory(s, [], steps: 4, gradient: randomGradient)
                let alone = try parameters(matrixOnly: s.capabilities & HostCapabilities.matrixOnlyBit != 0).enumerated().map { i, p in
                    try trajectory(s, [], steps: 4, parameters: [p]) { k, _, n in randomGradient(k, i, n) }.1[0]
                }
                return (bitEqual(together, alone), "one group of two versus two groups of one")
            },
            check("save and load mid-run equals a continuous run") {
                let (_, continuous) = try trajectory(s, [], steps: 6, gradient: randomGradient)
                let (first, _) = try trajectory(s, [], steps: 3, gradient: randomGradient)
                let saved = first.snapshot()
                let restoredParams = parameters(matrixOnly: s.capabilities & HostCapabilities.matrixOnlyBit != 0)
                for (p, q) in zip(restoredParams, first.parameters) { p.value.values = q.value.values }
                let second = try OptimizerSession(strategy: s, hyperparameters: HyperparameterSet(schema: s.hyperparameters, owner: s.id),
                                                  parameters: restoredParams)
                try second.restore(stepCount: first.stepCount, state: saved)
                let (_, resumed) = try trajectory(s, [], steps: 3, session: second, gradient: randomGradient)
                return (bitEqual(continuous, resumed), "6 steps versus 3 + host-saved state + 3")
            },
            check("schedulable values are read every step") {
                // A schedule that drops lr to 0 after 2 steps must stop the parameters there:
                // a plugin that cached lr in create would keep moving them.
                guard hasLR, let lr = s.hyperparameters.first(where: { $0.id == "lr" }), lr.isSchedulable else {
                    return (nil, "no schedulable 'lr' that accepts 0")
                }
                let (session, x2) = try trajectory(s, [], steps: 2, gradient: randomGradient)
                try session.hyperparameters.set(session.hyperparameters.index(of: "lr")!, .real(0))
                let (_, x4) = try trajectory(s, [], steps: 2, session: session, gradient: randomGradient)
                return (bitEqual(x2, x4), "parameters after steps 3-4 with lr scheduled to 0")
            },
            check("maximize ascends: maximize with g equals minimize with -g") {
                guard s.hyperparameters.contains(where: { $0.id == "maximize" && $0.type == .flag }) else {
                    return (nil, "no boolean hyperparameter 'maximize'")
                }
                let (_, up) = try trajectory(s, [("maximize", "true")], steps: 4, gradient: randomGradient)
                let (_, down) = try trajectory(s, [("maximize", "false")], steps: 4) { k, i, n in randomGradient(k, i, n).map { -$0 } }
                return (bitEqual(up, down), "4 steps with maximize=true versus maximize=false on negated gradients")
            },
            check("state stays finite") {
                let (session, x) = try trajectory(s, [], steps: 10, gradient: randomGradient)
                let finite = x.allSatisfy { $0.allSatisfy(\.isFinite) }
                    && session.state.allSatisfy { $0.allSatisfy { $0.values.allSatisfy(\.isFinite) } }
                    && zip(session.exact, session.parameters).allSatisfy { e, _ in e.allSatisfy(\.isFinite) }
                return (finite, "\(session.slots.count) slots after 10 random steps")
            },
        ] + familyChecks(s) + (s.capabilities & UInt64(GRADUS_CAP_EVAL_POINT) == 0 ? [] : [
            check("the evaluation-point exchange is exact") {
                // 3 steps, evaluate at x, then 3 more: the same bits as 6 steps without the exchange,
                // and the evaluation point is another point than the training one.
                let (_, continuous) = try trajectory(s, [], steps: 6, gradient: randomGradient)
                let (session, before) = try trajectory(s, [], steps: 3, gradient: randomGradient)
                let x = try session.atEvaluationPoint { session.parameters.map(\.value.values) }
                let after = session.parameters.map(\.value.values)
                let (_, resumed) = try trajectory(s, [], steps: 3, session: session, gradient: randomGradient)
                let ok = bitEqual(before, after) && bitEqual(continuous, resumed) && !bitEqual(x, before) && x.allSatisfy { $0.allSatisfy(\.isFinite) }
                return (ok, "training values restored bit for bit around an evaluation at a distinct, finite point")
            },
        ])
    }

    /// Properties of families, checked only on their members: Muon-style orthogonalizers (their
    /// schema has ns_a, ns_b, ns_c, ns_steps and adjust_lr_fn) and learning-rate-free methods
    /// (their schema has d0 or reps_rel).
    static func familyChecks(_ s: StrategyDescriptor) -> [Check] {
        let ids = Set(s.hyperparameters.map(\.id))
        var checks: [Check] = []
        if ids.isSuperset(of: ["ns_a", "ns_b", "ns_c", "ns_steps", "adjust_lr_fn", "momentum", "lr"]) {
            checks.append(check("the Newton–Schulz update's singular values lie in [0.5, 1.5]") {
                // One step with μ = 0 and no decay: ΔW = −η·√max(1, rows/cols)·O, O the Newton–Schulz output of
                // the gradient; with the default quintic coefficients its singular values spread around 1
                // (roughly [0.68, 1.2] for well-conditioned inputs), never collapsing to 0 or blowing up.
                var settings = [("lr", "1"), ("momentum", "0"), ("adjust_lr_fn", "original")]
                if ids.contains("weight_decay") { settings.append(("weight_decay", "0")) }
                var worst: (Float, Float) = (.infinity, 0)
                for (rows, cols) in [(6, 10), (10, 6)] {
                    var rng = RandomStream(seed: UInt64(rows), stream: "ns-band")
                    let p = HostParameter(name: "w", role: .matrix, shape: [rows, cols], values: [Float](repeating: 0, count: rows * cols))
                    let (session, _) = try trajectory(s, settings, steps: 1, parameters: [p]) { _, _, n in (0..<n).map { _ in rng.normal() } }
                    let scale = Float(max(1, Double(rows) / Double(cols)).squareRoot())
                    let o = session.parameters[0].value.values.map { -$0 / scale }
                    let k = min(rows, cols)
                    var u = [Float](repeating: 0, count: rows * k), sv = [Float](repeating: 0, count: k), vt = [Float](repeating: 0, count: k * cols)
                    try o.withUnsafeBufferPointer { try LAPACK.svd($0.baseAddress!, m: rows, n: cols, u: &u, s: &sv, vt: &vt) }
                    worst = (min(worst.0, sv.min()!), max(worst.1, sv.max()!))
                }
                return (worst.0 >= 0.5 && worst.1 <= 1.5, "singular values of O in [\(worst.0), \(worst.1)] on a 6×10 and a 10×6 Gaussian gradient")
            })
        }
        if !ids.isDisjoint(with: ["d0", "reps_rel"]) {
            checks.append(check("moves at its default learning rate") {
                // Learning-rate-free methods must make progress with every setting at its default: 200 steps on
                // f(x) = ½‖x − c‖² at least halve the distance to c.
                let start = parameters(matrixOnly: false), targets = start.map { $0.value.values.map { $0 + 3 } }
                func distance(_ xs: [[Float]]) -> Float {
                    var sum: Float = 0
                    for (x, c) in zip(xs, targets) { for (a, b) in zip(x, c) { sum += (a - b) * (a - b) } }
                    return sum.squareRoot()
                }
                let before = distance(start.map(\.value.values))
                // The gradient x − c is read from the parameters the session updates in place.
                let (_, end) = try trajectory(s, [], steps: 200, parameters: start) { _, i, _ in
                    zip(start[i].value.values, targets[i]).map { $0 - $1 }
                }
                let after = distance(end)
                return (after <= 0.5 * before, "distance to the minimum \(before) → \(after) in 200 steps at the defaults")
            })
        }
        return checks
    }

    // MARK: normalizers

    static func normalizerChecks(_ s: StrategyDescriptor) -> [Check] {
        /// An instance with default hyperparameters for [4, 6] inputs (4 samples of 6 features).
        func session() throws -> NormalizerSession {
            try NormalizerSession(strategy: s, hyperparameters: HyperparameterSet(schema: s.hyperparameters, owner: s.id),
                                  inputShape: [4, 6], channelAxis: 1, normalizedDims: 1)
        }
        return [check("kernel gradients match finite differences") {
            let n = try session()
            let shape = n.inputShape
            guard n.hasKernel else { return (nil, "no kernel form") }
            var rng = RandomStream(seed: 5, stream: "norm")
            let x = (0..<24).map { _ in rng.normal() * 2 }
            let w = (0..<24).map { _ in rng.normal() }
            for p in n.parameters { p.value.values = (0..<p.value.count).map { _ in 1 + 0.3 * rng.normal() } }
            func loss(_ xs: [Float]) throws -> Double {
                zip(try n.forward(HostTensor(shape: shape, values: xs)).values, w).reduce(0) { $0 + Double($1.0) * Double($1.1) }
            }
            let dx = try n.backward(HostTensor(shape: shape, values: x), dy: HostTensor(shape: shape, values: w)).values
            let h: Float = 1e-2
            var worst = 0.0
            for i in 0..<x.count {
                var plus = x, minus = x
                plus[i] += h; minus[i] -= h
                let numeric = (try loss(plus) - loss(minus)) / Double(2 * h)
                worst = max(worst, abs(Double(dx[i]) - numeric) / max(1, abs(numeric)))
            }
            return (worst <= 5e-3, "worst relative error of dx over \(x.count) inputs: \(worst)")
        },
        check("graph form matches the kernel form") {
            let n = try session()
            let shape = n.inputShape
            guard n.hasKernel, n.hasGraph else { return (nil, n.hasGraph ? "no kernel form" : "no graph form") }
            var rng = RandomStream(seed: 6, stream: "norm")
            let x = (0..<24).map { _ in rng.normal() * 2 + 0.5 }, dy = (0..<24).map { _ in rng.normal() }
            for p in n.parameters { p.value.values = (0..<p.value.count).map { _ in 1 + 0.3 * rng.normal() } }
            let xh = HostTensor(shape: shape, values: x)
            let y = try n.forward(xh, train: true).values
            let dx = try n.backward(xh, dy: HostTensor(shape: shape, values: dy), train: true).values
            let xv = Variable(Tensor(shape: shape, scalars: x), requiresGrad: true)
            let pv = n.parameters.map { Variable(Tensor(shape: $0.value.shape, scalars: $0.value.values), requiresGrad: true) }
            let yg = try n.buildGraph(xv, parameters: pv, train: true, updatesBuffers: false)
            let g = Autodiff.gradients(of: yg, wrt: [xv] + pv, seed: Variable(Tensor(shape: shape, scalars: dy)))
            let pairs = zip(y, yg.value.scalars).map { ($0, $1) } + zip(dx, g[0].value.scalars).map { ($0, $1) }
                + zip(n.parameters, g.dropFirst()).flatMap { zip($0.grad.values, $1.value.scalars).map { ($0, $1) } }
            let worst = pairs.map { Double(abs($0 - $1)) / max(1, Double(abs($0))) }.max() ?? 0
            return (worst <= 1e-4, "worst relative difference over y, dx and parameter gradients: \(worst)")
        },
        check("eval mode is per-sample and leaves the buffers alone") {
            // In eval mode a sample's output may not depend on the rest of the batch (running
            // statistics, not batch statistics), and nothing is learned.
            let n = try session()
            guard n.hasKernel || n.hasGraph else { return (nil, "no form") }
            var rng = RandomStream(seed: 7, stream: "norm")
            for b in n.buffers { b.tensor.values = (0..<b.tensor.count).map { _ in 0.5 + abs(rng.normal()) } }
            let before = n.buffers.map(\.tensor.values)
            let batch = (0..<24).map { _ in rng.normal() * 2 + 0.5 }
            func eval(_ xs: [Float], rows: Int) throws -> [Float] {
                if n.hasKernel { return try n.forward(HostTensor(shape: [rows, 6], values: xs), parameters: n.parameters.map(\.value), train: false).values }
                let pv = n.parameters.map { Variable(Tensor(shape: $0.value.shape, scalars: $0.value.values)) }
                return try n.buildGraph(Variable(Tensor(shape: [rows, 6], scalars: xs)), parameters: pv, train: false, updatesBuffers: true).value.scalars
            }
            let together = try eval(batch, rows: 4), alone = try eval(Array(batch[0..<6]), rows: 1)
            let worst = zip(together.prefix(6), alone).map { Double(abs($0 - $1)) }.max() ?? 0
            let unchanged = n.buffers.map(\.tensor.values) == before
            return (worst <= 1e-6 && unchanged, "sample 0 alone vs in a batch of 4: worst difference \(worst); buffers \(unchanged ? "unchanged" : "changed")")
        }]
    }

    // MARK: pruners

    static func prunerChecks(_ s: StrategyDescriptor) -> [Check] {
        let hasSparsity = s.hyperparameters.contains { $0.id == "sparsity" && $0.type == .real }
        return [
            check("reaches the requested sparsity") {
                guard hasSparsity else { return (nil, "no real hyperparameter 'sparsity'") }
                let ps = parameters()
                let pruner = try PruningSession(strategy: s, hyperparameters: HyperparameterSet(
                    schema: s.hyperparameters, overrides: [("sparsity", "0.5")], owner: s.id), targets: ps)
                try pruner.prune()
                let masked = pruner.masks.reduce(0) { $0 + $1.values.filter { $0 == 0 }.count }
                let layerwise = ps.reduce(0) { $0 + PruningSession.pruneCount(sparsity: 0.5, count: $1.value.count) }
                let global = PruningSession.pruneCount(sparsity: 0.5, count: ps.reduce(0) { $0 + $1.value.count })
                let weightsZero = zip(ps, pruner.masks).allSatisfy { p, m in zip(p.value.values, m.values).allSatisfy { $1 != 0 || $0 == 0 } }
                return ((masked == layerwise || masked == global) && weightsZero,
                        "\(masked) entries masked for a target of 0.5 (layer-wise \(layerwise), global \(global)); masked weights are zero")
            },
            check("masks are deterministic") {
                func masks() throws -> [[Float]] {
                    let pruner = try PruningSession(strategy: s, hyperparameters: HyperparameterSet(schema: s.hyperparameters, owner: s.id),
                                                    targets: parameters())
                    try pruner.prune()
                    return pruner.masks.map(\.values)
                }
                return (bitEqual(try masks(), try masks()), "two instances on the same weights")
            },
        ]
    }
}
