import XCTest
@testable import GradusRuntime
import GradusCore
import GradusTestSupport

/// Every built-in optimizer with a reference implementation against it, step by step: the point and
/// every state slot after each of 150 steps, on three 2-D functions and two least-squares matrix
/// problems, with hyperparameters varied away from the defaults (Fixtures/golden/generate.py writes
/// the fixtures from the pinned references; each case carries its tolerance and why).
final class GoldenOptimizerTests: XCTestCase {
    /// Optimizers without a packaged reference (pytorch-optimizer 4.1.0 has no Subspace-Momentum):
    /// invariant and hand-computed tests instead (NoReferenceOptimizerTests).
    static let withoutReference: Set<String> = ["auon", "root", "optimistic_amsgrad", "normalized_gd", "subspace_momentum"]
    /// SGD and Adam are covered by GoldenTrajectoryTests (the older torch.optim fixture).
    static let coveredElsewhere: Set<String> = ["sgd", "adam"]

    func testEveryGoldenFileHasAPluginAndEveryPluginWithAReferenceHasAGoldenFile() throws {
        let registry = TestSupport.builtinRegistry()
        let golden = Set(try GoldenFixtures.optimizers())
        let optimizers = Set(registry.strategies.filter { $0.kind == .optimizer }.map { String($0.id.dropFirst("gradus.".count)) })
        XCTAssertEqual(golden.subtracting(optimizers), [], "golden files without a built-in optimizer")
        XCTAssertEqual(optimizers.subtracting(golden).subtracting(Self.withoutReference).subtracting(Self.coveredElsewhere), [],
                       "optimizers with a reference but no golden file")
    }

    func testOptimizersMatchTheirReferencesStepByStep() throws {
        let registry = TestSupport.builtinRegistry()
        var summary: [String] = []
        for optimizer in try GoldenFixtures.optimizers() {
            // A file without a plugin fails the coverage test above; the others are still replayed.
            guard let strategy = registry.strategy("gradus." + optimizer) else { continue }
            var worst: Float = 0, count = 0, matrixCases = 0
            for c in try GoldenFixtures.cases(optimizer) {
                worst = max(worst, try replay(c, strategy))
                count += 1
                if c.shape.count == 2 { matrixCases += 1 }
            }
            XCTAssertGreaterThanOrEqual(count, 4, "\(optimizer): too few golden cases")
            XCTAssertGreaterThan(matrixCases, 0, "\(optimizer): no matrix-shaped case")
            summary.append("\(optimizer) \(count) cases, worst error/tolerance \(worst)")
        }
        print("golden optimizers:\n  " + summary.joined(separator: "\n  "))
    }

    /// Feeds the recorded gradients and compares the point and every slot after each step; returns the
    /// worst |got − want| / (atol + rtol·|want|) seen (≤ 1 passes). Stops a case at its first mismatch.
    func replay(_ c: GoldenCase, _ strategy: StrategyDescriptor) throws -> Float {
        let label = "\(c.optimizer)/\(c.name)"
        let hp = try HyperparameterSet(schema: strategy.hyperparameters, overrides: c.settings, owner: strategy.id)
        let p = HostParameter(name: "x", role: c.shape.count >= 2 ? .matrix : .vector, shape: c.shape, values: c.points[0])
        let session = try OptimizerSession(strategy: strategy, hyperparameters: hp, parameters: [p])
        // "eval_x" is the evaluation point (schedule-free's x), compared through the host's exchange.
        let recorded = Set(c.tensorState.keys).union(c.numberState.keys).subtracting(["eval_x"])
        let slots = session.slots.enumerated().filter { recorded.contains($0.element.name) }
        XCTAssertEqual(Set(slots.map(\.element.name)), recorded, "\(label): the reference's state names vs the plugin's slots")
        var worst: Float = 0
        func check(_ got: Float, _ want: Float, _ what: @autoclosure () -> String) -> Bool {
            let ratio = abs(got - want) / (c.atol + c.rtol * abs(want))
            worst = max(worst, ratio.isNaN ? .infinity : ratio)
            if ratio <= 1 { return true }
            XCTFail("\(label): \(what()): Gradus \(got), reference \(want) (rtol \(c.rtol), atol \(c.atol))\(c.note.isEmpty ? "" : "; note: \(c.note)")")
            return false
        }
        for k in 1...c.steps {
            p.grad.values = c.gradients[k - 1]
            try session.step()
            let state = session.snapshot()[0]
            for (i, (got, want)) in zip(p.value.values, c.points[k]).enumerated() {
                guard check(got, want, "step \(k) x[\(i)]") else { return worst }
            }
            if let evalPoints = c.tensorState["eval_x"] {
                XCTAssertTrue(session.hasEvalPoint, "\(label): the reference records an evaluation point")
                let x = try session.atEvaluationPoint { p.value.values }
                for (i, (got, want)) in zip(x, evalPoints[k - 1]).enumerated() {
                    guard check(got, want, "step \(k) evaluation point[\(i)]") else { return worst }
                }
            }
            for (s, slot) in slots {
                if let rows = c.tensorState[slot.name] {
                    guard case .floats(let got) = state[s], got.count == rows[k - 1].count else {
                        XCTFail("\(label): slot \(slot.name) holds \(state[s]), the reference \(rows[k - 1].count) floats"); return worst
                    }
                    for (i, (g, w)) in zip(got, rows[k - 1]).enumerated() {
                        guard check(g, w, "step \(k) \(slot.name)[\(i)]") else { return worst }
                    }
                } else if let values = c.numberState[slot.name] {
                    let got: Double
                    switch state[s] {
                    case .exact(let d): got = d
                    case .floats(let f) where f.count == 1: got = Double(f[0])
                    default: XCTFail("\(label): slot \(slot.name) is not a scalar"); return worst
                    }
                    let want = values[k - 1]
                    // Counters (integers moving by at most 1 per step) must match exactly; other numbers to tolerance.
                    let isCount = values.allSatisfy { $0 == $0.rounded() && abs($0) < 0x1p52 } && zip(values, values.dropFirst()).allSatisfy { abs($1 - $0) <= 1 }
                    if isCount {
                        guard got == want else { XCTFail("\(label): step \(k) \(slot.name): Gradus \(got), reference \(want) (a count: exact)"); return worst }
                    } else {
                        guard check(Float(got), Float(want), "step \(k) \(slot.name)") else { return worst }
                    }
                }
            }
        }
        return worst
    }

    /// `least_squares` computes the same gradients as the reference's autograd at every recorded point.
    func testLeastSquaresGradientsMatchAutograd() throws {
        var checked = 0
        for optimizer in try GoldenFixtures.optimizers() {
            for c in try GoldenFixtures.cases(optimizer) where ["least_squares_tall", "least_squares_wide"].contains(c.problem) {
                let (a, b, x0) = try GoldenFixtures.matrixProblem(c.problem)
                let f = try TestFunction.leastSquares(a: a, b: b, start: x0)
                XCTAssertEqual(f.start, c.points[0], "\(c.name): start")
                for (x, want) in zip(c.points, c.gradients).prefix(20) {
                    TestSupport.assertClose(f.gradient(x), want.map(Double.init), 1e-5, "\(optimizer)/\(c.name) gradient")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 0)
    }
}
