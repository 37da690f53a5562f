import XCTest
@testable import GradusRuntime
import GradusCore
import GradusTestSupport

/// The optimizers without a packaged reference (AuON, ROOT, Optimistic AMSGrad, Subspace-Momentum,
/// Normalized LR+GD), checked against steps computed by hand from the papers' and authors' formulas
/// and against invariants those formulas imply. Each expected number is derived in the comment.
final class NoReferenceOptimizerTests: XCTestCase {
    let registry = TestSupport.builtinRegistry()

    /// A session of `id` on one parameter of `shape` starting at `x0`.
    func session(_ id: String, _ shape: [Int], _ x0: [Float], _ settings: [(String, String)]) throws -> (OptimizerSession, HostParameter) {
        let s = try registry.require(id, kind: .optimizer)
        let p = HostParameter(name: "w", role: shape.count >= 2 ? .matrix : .vector, shape: shape, values: x0)
        return (try OptimizerSession(strategy: s, hyperparameters: HyperparameterSet(schema: s.hyperparameters, overrides: settings, owner: s.id),
                                     parameters: [p]), p)
    }

    /// The parameter after one step from `x0` with gradient `g`.
    func oneStep(_ id: String, _ shape: [Int], x0: [Float], g: [Float], _ settings: [(String, String)], loss: Double? = nil) throws -> [Float] {
        let (s, p) = try session(id, shape, x0, settings)
        p.grad.values = g
        try s.step(loss: loss)
        return p.value.values
    }

    func testAuONFirstStepAndScaleInvariance() throws {
        // Step 1 from zero momentum: u = (1 − β)(1 + β)·g = 0.0975 for g = ones(2, 2), β = 0.95; X = u/(‖u‖ + 1e-7)
        // ≈ 0.5; r = √mean cosh²(X) = cosh(0.5) (γ = 1); update X/(r + 1e-8) = 0.4434093 (aspect factor 1).
        let x = try oneStep("auon", [2, 2], x0: [0, 0, 0, 0], g: [1, 1, 1, 1], [("lr", "0.1"), ("weight_decay", "0")])
        TestSupport.assertClose(x, [Double](repeating: -0.04434093, count: 4), 1e-6, "AuON step 1")
        // Scale invariance of the paper's form: 1000·G takes the same step.
        let g: [Float] = [0.3, -1.2, 2.0, 0.7, -0.1, 0.5]
        let a = try oneStep("auon", [2, 3], x0: [Float](repeating: 1, count: 6), g: g, [("lr", "0.05")])
        let b = try oneStep("auon", [2, 3], x0: [Float](repeating: 1, count: 6), g: g.map { $0 * 1000 }, [("lr", "0.05")])
        TestSupport.assertClose(b, a.map(Double.init), 1e-6, "AuON scale invariance")
        // The authors' current code (U itself over r, γ = 1.5) on a 1×1 matrix with g = 3: u = 0.0975·3 = 0.2925,
        // X ≈ 1, r = cosh(1.5) = 2.3524096; update 0.2925/2.3524096 = 0.1243406.
        let c = try oneStep("auon", [1, 1], x0: [0], g: [3], [("lr", "1"), ("weight_decay", "0"), ("gamma", "1.5"), ("normalize_update", "false")])
        XCTAssertEqual(c[0], -0.1243406, accuracy: 1e-6)
    }

    func testROOTRankOneStepAndOutlierClipping() throws {
        // A ±1 rank-one gradient: every |entry| equal, nothing clipped; G/‖G‖_F has one singular value 1 and
        // five Muon iterations map it to φ⁵(1) = 0.6964364 (φ(x) = 3.4445x − 4.7750x³ + 2.0315x⁵). The step is
        // η·0.2·√max(2, 4)·0.6964364·G/√8 per entry.
        let g: [Float] = [1, 1, -1, 1, -1, -1, 1, -1]
        let x = try oneStep("root", [2, 4], x0: [Float](repeating: 0, count: 8), g: g, [("lr", "0.01"), ("weight_decay", "0")])
        let entry = 0.01 * 0.2 * 2 * 0.6964364 / 8.0.squareRoot()
        TestSupport.assertClose(x, g.map { -entry * Double($0) }, 1e-6, "ROOT rank-one step")
        // Entries beyond the 0.9 quantile of |M̃| are clipped to it: [[1..5],[6..10]] has quantile 9.1 (linear
        // interpolation), so it steps like the clipped matrix [[1..5],[6..9, 9.1]] with nothing clipped
        // (threshold_quantile = 1); the momentum's 1.95 factor at step 1 scales τ alike.
        let ramp: [Float] = (1...10).map(Float.init), clipped: [Float] = (1...9).map(Float.init) + [9.1]
        let a = try oneStep("root", [2, 5], x0: [Float](repeating: 0, count: 10), g: ramp, [("lr", "0.01")])
        let b = try oneStep("root", [2, 5], x0: [Float](repeating: 0, count: 10), g: clipped, [("lr", "0.01"), ("threshold_quantile", "1")])
        TestSupport.assertClose(a, b.map(Double.init), 1e-6, "ROOT clips the outlier")
        let unclipped = try oneStep("root", [2, 5], x0: [Float](repeating: 0, count: 10), g: ramp, [("lr", "0.01"), ("threshold_quantile", "1")])
        XCTAssertGreaterThan(zip(a, unclipped).map { abs($0 - $1) }.max()!, 1e-5, "clipping changes the step")
        XCTAssertEqual(ROOTQuantile.of((1...10).map(Float.init), 0.9), 9.1, accuracy: 1e-6)
    }

    func testOptimisticAMSGradFirstStepReductionAndExtrapolation() throws {
        // Step 1 (no prediction yet, h = 0): θ = (1 − β1)g, v = (1 − β2)g², s = η√(1 − β2)/(1 − β1), so
        // x₁ = x₀ − η·g/(|g| + ε/√(1 − β2)).
        let x = try oneStep("optimistic_amsgrad", [2], x0: [1, 1], g: [2, -3], [("lr", "0.1"), ("eps", "1e-3")])
        TestSupport.assertClose(x, [1 - 0.1 * 2 / (2 + 1e-3 / 0.01.squareRoot()), 1 + 0.1 * 3 / (3 + 1e-3 / 0.01.squareRoot())], 1e-6, "step 1")
        // With β1 = 0 and no prediction (the history never fills), it is AMSGrad with β1 = 0 (ε at √v̂ instead of
        // at √v̂/√(1 − β2ᵗ): equal to rounding with a tiny ε).
        var a: [TracePoint] = [], b: [TracePoint] = []
        try TraceRunner.run(optimizer: registry.require("optimistic_amsgrad", kind: .optimizer), function: .named("quadratic"), steps: 40,
                            settings: [("lr", "0.05"), ("beta1", "0"), ("beta2", "0.99"), ("eps", "1e-12"), ("span", "64")]) { a.append($0) }
        try TraceRunner.run(optimizer: registry.require("adam", kind: .optimizer), function: .named("quadratic"), steps: 40,
                            settings: [("lr", "0.05"), ("beta1", "0"), ("beta2", "0.99"), ("eps", "1e-12"), ("amsgrad", "true")]) { b.append($0) }
        for (p, q) in zip(a, b) { TestSupport.assertClose(p.x, q.x.map(Double.init), 1e-5, "AMSGrad step \(p.step)") }
        // RMPE is exact on a geometric sequence as λ → 0: gradients 2, 1.5, 1.25 (1 + 0.5ˢ) with span 2 predict
        // c = z/Σz from (UᵀU + λI)z = 1, U = (−0.5, −0.25): 1.0232558 at λ = 1e-3 and 1.0000002 at λ = 1e-8.
        for (ridge, want) in [("1e-3", 1.0232558), ("1e-8", 1.0000002)] {
            let (s, p) = try session("optimistic_amsgrad", [1], [0], [("span", "2"), ("ridge", ridge)])
            for g: Float in [2, 1.5, 1.25] { p.grad.values = [g]; try s.step() }
            XCTAssertEqual(Double(s.slot("prediction", of: 0)!.values[0]), want, accuracy: 2e-5, "λ = \(ridge)")
        }
    }

    func testSubspaceMomentumFullRankAndInSubspaceSteps() throws {
        // Full rank (r = min(rows, cols)): the complement is 0, so step 1 is
        // −η·√(1 − β2)/(1 − β1)·(1 − β1)·g/(√((1 − β2)·Σ_row g²) + ε) per entry.
        let g: [Float] = [0.5, -1, 2, 0.25, 1, -0.5], lr = 0.1, eps = 1e-6
        let x = try oneStep("subspace_momentum", [3, 2], x0: [Float](repeating: 0, count: 6), g: g, [("lr", "0.1"), ("rank", "2")])
        var want: [Double] = []
        for i in 0..<3 {
            let s = Double(g[2 * i] * g[2 * i] + g[2 * i + 1] * g[2 * i + 1])
            for j in 0..<2 { want.append(-lr * 0.001.squareRoot() * Double(g[2 * i + j]) / ((0.001 * s).squareRoot() + eps)) }
        }
        TestSupport.assertClose(x, want, 1e-5, "full-rank step 1")
        // Rank 1 with a rank-one gradient a·bᵀ of a wide matrix: it lies in the subspace, the complement is 0
        // again, and the Subset-Norm sums run over the shorter side (one value per column).
        let a: [Float] = [1, -2, 0.5], bb: [Float] = [2, 1, -1, 0.5]
        let rankOne = a.flatMap { ai in bb.map { ai * $0 } }
        let y = try oneStep("subspace_momentum", [3, 4], x0: [Float](repeating: 0, count: 12), g: rankOne, [("lr", "0.1"), ("rank", "1")])
        var expected: [Double] = []
        for i in 0..<3 {
            for j in 0..<4 {
                let s = (0..<3).reduce(0.0) { $0 + Double(rankOne[4 * $1 + j] * rankOne[4 * $1 + j]) }
                expected.append(-lr * 0.001.squareRoot() * Double(rankOne[4 * i + j]) / ((0.001 * s).squareRoot() + eps))
            }
        }
        TestSupport.assertClose(y, expected, 1e-5, "rank-one gradient in a rank-1 subspace")
        let (s, _) = try session("subspace_momentum", [3, 4], [Float](repeating: 0, count: 12), [("rank", "2")])
        XCTAssertEqual(s.state[0].map(\.shape), [[0], [3, 2], [2, 4], [1, 4]],
                       "step, the projector (rows × r), momentum in the subspace (r × cols), one second moment per column")
    }

    func testNormalizedGDStepsByTheInverseLoss() throws {
        // On f = ½(x² + 10y²) at (1, 1): f = 5.5, ∇f = (1, 10), so x₁ = (1, 1) − γ/5.5·(1, 10).
        var points: [TracePoint] = []
        try TraceRunner.run(optimizer: registry.require("normalized_gd", kind: .optimizer), function: .named("quadratic"), steps: 1,
                            settings: [("lr", "0.1")]) { points.append($0) }
        TestSupport.assertClose(points[1].x, [1 - 0.1 / 5.5, 1 - 1 / 5.5], 1e-6, "step 1")
        // The multiplier is capped: a loss of 1e-9 with max_scale 100 steps by γ·100·g.
        let x = try oneStep("normalized_gd", [2], x0: [0, 0], g: [1, -1], [("lr", "0.5"), ("max_scale", "100")], loss: 1e-9)
        XCTAssertEqual(x, [-50, 50])
        XCTAssertThrowsError(try oneStep("normalized_gd", [2], x0: [0, 0], g: [1, 1], [], loss: 0)) {
            XCTAssertTrue("\($0)".contains("needs a positive loss"), "\($0)")
        }
    }
}

/// torch.quantile's linear interpolation, as ROOT's threshold uses it (the plugin's own copy is inside
/// its library; this one pins the convention the test's expected values assume).
enum ROOTQuantile {
    static func of(_ values: [Float], _ q: Double) -> Float {
        let sorted = values.sorted(), position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down)), upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + Float(position - Double(lower)) * (sorted[upper] - sorted[lower])
    }
}
