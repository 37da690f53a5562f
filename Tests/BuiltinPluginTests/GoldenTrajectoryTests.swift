import XCTest
@testable import GradusRuntime
import GradusTestSupport

/// SGD and Adam against torch.optim, step by step, parameters and state
/// (fixtures from Fixtures/generate_golden.py).
final class GoldenTrajectoryTests: XCTestCase {
    /// |a - b| <= rtol·|b| + atol, float32 tolerance over 200 steps.
    static let rtol: Float = 1e-5, atol: Float = 1e-6

    func testTrajectoriesMatchTorchOptim() throws {
        let registry = TestSupport.builtinRegistry()
        let root = try XCTUnwrap(TestSupport.fixture("golden_trajectories") as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 21)
        var worstAbsolute: Float = 0, worstRelative: Float = 0
        for c in cases {
            let name = c["name"] as! String
            let optimizer = try registry.require(c["optimizer"] as! String, kind: .optimizer)
            let settings = (c["settings"] as! [String: String]).sorted { $0.key < $1.key }
            let expected = (c["trajectory"] as! [[Double]]).map { $0.map(Float.init) }
            let gradients = (c["gradients"] as! [[Double]]).map { $0.map(Float.init) }
            let expectedState = (c["state"] as! [String: [[Double]]]).mapValues { $0.map { $0.map(Float.init) } }
            let hp = try HyperparameterSet(schema: optimizer.hyperparameters, overrides: settings, owner: optimizer.id)
            let p = HostParameter(name: "x", role: .vector, shape: [2], values: expected[0])
            let session = try OptimizerSession(strategy: optimizer, hyperparameters: hp, parameters: [p])
            XCTAssertEqual(Set(session.slots.filter(\.likeParameter).map(\.name)), Set(expectedState.keys), name)
            // Scalar state torch keeps (Adam's step) must match exactly; SGD's "initialized" has no
            // torch counterpart (torch's buffer is None before the first step) and must read 1 after it.
            let expectedScalars = try XCTUnwrap(c["scalar_state"] as? [String: Any], name).mapValues { ($0 as! [Any]).map { ($0 as! NSNumber).doubleValue } }
            let scalarSlots = session.slots.enumerated().filter { !$0.element.likeParameter }
            XCTAssertEqual(Set(scalarSlots.map(\.element.name)).subtracting(["initialized"]), Set(expectedScalars.keys), name)
            for k in 1..<expected.count {
                p.grad.values = gradients[k - 1]
                try session.step()
                for (got, want) in zip(p.value.values, expected[k]) {
                    let err = abs(got - want) - Self.rtol * abs(want)
                    worstAbsolute = max(worstAbsolute, abs(got - want))
                    if abs(want) >= 1e-2 { worstRelative = max(worstRelative, abs(got - want) / abs(want)) }
                    XCTAssertLessThanOrEqual(err, Self.atol, "\(name) step \(k): x = \(p.value.values), torch \(expected[k])")
                    if err > Self.atol { return }
                }
                for (slot, rows) in expectedState {
                    let got = session.slot(slot, of: 0)!.values
                    for (g, w) in zip(got, rows[k - 1]) {
                        XCTAssertLessThanOrEqual(abs(g - w) - Self.rtol * abs(w), Self.atol, "\(name) step \(k) \(slot): \(got) vs \(rows[k - 1])")
                    }
                }
                for (s, slot) in scalarSlots {
                    guard case let .exact(got) = session.snapshot()[0][s] else { XCTFail("\(name): \(slot.name) is not exact"); continue }
                    let want = slot.name == "initialized" ? 1 : expectedScalars[slot.name]![k - 1]
                    XCTAssertEqual(got, want, "\(name) step \(k) \(slot.name)")
                }
            }
        }
        print("golden trajectories: worst |Δx| \(worstAbsolute), worst relative Δx where |x| >= 0.01: \(worstRelative)")
    }

    /// The hand-written gradients of the test functions agree with torch autograd at every fixture point.
    func testHandWrittenGradientsMatchAutograd() throws {
        let root = try XCTUnwrap(TestSupport.fixture("golden_trajectories") as? [String: Any])
        var checked = 0
        for c in try XCTUnwrap(root["cases"] as? [[String: Any]]) {
            let function = try TestFunction.named(c["function"] as! String)
            let points = (c["trajectory"] as! [[Double]]).map { $0.map(Float.init) }
            let gradients = (c["gradients"] as! [[Double]]).map { $0.map(Float.init) }
            for (x, want) in zip(points, gradients) {
                let got = function.gradient(x)
                let scale = max(abs(want[0]), abs(want[1]), 1)
                for (g, w) in zip(got, want) {
                    XCTAssertLessThanOrEqual(abs(g - w), 1e-5 * scale, "\(c["name"]!) at \(x): \(got) vs autograd \(want)")
                }
                checked += 1
            }
        }
        XCTAssertEqual(checked, 21 * 200)
    }

    func testTraceEmitsStartPlusOneLinePerStep() throws {
        let registry = TestSupport.builtinRegistry()
        var lines: [TracePoint] = []
        try TraceRunner.run(optimizer: registry.require("adam", kind: .optimizer), function: .named("rosenbrock"),
                            steps: 100, settings: [("lr", "0.01")]) { lines.append($0) }
        XCTAssertEqual(lines.count, 101)
        XCTAssertEqual(lines[0], TracePoint(step: 0, x: [-1.2, 1], f: TestFunction.all[0].value([-1.2, 1])))
        XCTAssertEqual(lines.map(\.step), Array(0...100))
        XCTAssertLessThan(lines[100].f, lines[0].f)
        XCTAssertEqual(lines[1].jsonLine, "{\"step\": 1, \"x\": [-1.19, 1.01], \"f\": \(lines[1].f)}")
    }

    func testConstantScheduleIsBitIdenticalToNoSchedule() throws {
        let registry = TestSupport.builtinRegistry()
        let adam = try registry.require("adam", kind: .optimizer)
        let constant = try FunctionCaller(registry.require("constant", kind: .function))
        var plain: [TracePoint] = [], scheduled: [TracePoint] = []
        try TraceRunner.run(optimizer: adam, function: .named("beale"), steps: 50, settings: [("lr", "0.02")]) { plain.append($0) }
        try TraceRunner.run(optimizer: adam, function: .named("beale"), steps: 50, settings: [("lr", "0.02")],
                            schedules: [ScheduledHyperparameter(hyperparameter: "lr", caller: constant, arguments: [:])]) { scheduled.append($0) }
        XCTAssertEqual(plain, scheduled)
    }

    func testStepScheduleChangesTheLearningRate() throws {
        let registry = TestSupport.builtinRegistry()
        let sgd = try registry.require("sgd", kind: .optimizer)
        let step = try FunctionCaller(registry.require("step", kind: .function))
        var points: [TracePoint] = []
        // lr 0.1 for steps 1-2, then 0.01: on f = ½(x² + 10y²) x shrinks by 0.9, 0.9, then 0.99.
        try TraceRunner.run(optimizer: sgd, function: .named("quadratic"), steps: 3, settings: [("lr", "0.1")],
                            schedules: [ScheduledHyperparameter(hyperparameter: "lr", caller: step,
                                                                arguments: ["step_size": .text("2"), "gamma": .text("0.1")])]) { points.append($0) }
        var x: Float = 1
        var want: [Float] = [x]
        for lr in [0.1, 0.1, 0.1 * 0.1] { x += -Float(lr) * x; want.append(x) }
        XCTAssertEqual(points.map { $0.x[0] }, want)
    }

    func testHyperparameterErrorsNameKeyValueAndExpectation() throws {
        let registry = TestSupport.builtinRegistry()
        let sgd = try registry.require("sgd", kind: .optimizer)
        func message(_ settings: [(String, String)]) -> String {
            do {
                try TraceRunner.run(optimizer: sgd, function: .named("quadratic"), steps: 1, settings: settings) { _ in }
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(message([("lr", "-1")]), "gradus.sgd: lr=-1 is out of range (expected [0, inf])")
        XCTAssertEqual(message([("lr", "fast")]), "gradus.sgd: lr=fast is not a number (expected a real number in [0, inf])")
        XCTAssertTrue(message([("betas", "0.9")]).hasPrefix("gradus.sgd: unknown hyperparameter 'betas' (expected one of: lr, momentum"))
        XCTAssertEqual(message([("momentum", "1")]), "gradus.sgd: momentum=1 is out of range (expected [0, 1))")
        XCTAssertTrue(message([("nesterov", "true")]).contains("nesterov=true needs momentum > 0 and dampening = 0"), message([("nesterov", "true")]))
    }

    func testDivergenceIsReportedNotPrinted() throws {
        let registry = TestSupport.builtinRegistry()
        var count = 0
        XCTAssertThrowsError(try TraceRunner.run(optimizer: registry.require("sgd", kind: .optimizer), function: .named("rosenbrock"),
                                                 steps: 100, settings: [("lr", "1")]) { _ in count += 1 }) { error in
            XCTAssertTrue("\(error)".hasPrefix("diverged at step"), "\(error)")
        }
        XCTAssertLessThan(count, 101)
    }
}
