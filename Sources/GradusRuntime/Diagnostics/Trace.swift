import CGradusABI
import Foundation
import GradusCore

/// One line of `gradus trace`: the point and the function value after `step` updates.
public struct TracePoint: Equatable, Sendable {
    public let step: Int
    public let x: [Float]
    public let f: Float

    /// `{"step": k, "x": [..], "f": value}` with shortest round-tripping float text.
    public var jsonLine: String {
        JSONText.object([("step", "\(step)"), ("x", JSONText.array(x.map(JSONText.number))), ("f", JSONText.number(f))])
    }
}

/// The autodiff services on a test function at the current point: its value, Hessian-vector
/// products and re-evaluation elsewhere, all from the core.
final class TestFunctionRunContext: RunContext {
    let function: TestFunction
    let point: [Float]
    init(function: TestFunction, point: [Float]) { self.function = function; self.point = point }

    override func loss(_ out: UnsafeMutablePointer<Double>?) -> Int32 {
        guard let out else { return GRADUS_ERR_INVALID_ARGUMENT }
        out.pointee = Double(function.value(point))
        return GRADUS_OK
    }

    override func hessianVectorProduct(_ v: UnsafePointer<UnsafePointer<Float>?>?, _ out: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                                       _ n: UInt32) -> Int32 {
        guard n == 1, let v, let out, let src = v[0], let dst = out[0] else {
            PluginErrorSlot.shared.set(GRADUS_ERR_INVALID_ARGUMENT, "hessian_vector_product: expected 1 vector for the point, got \(n)")
            return GRADUS_ERR_INVALID_ARGUMENT
        }
        let hv = function.hessianVectorProduct(at: point, Array(UnsafeBufferPointer(start: src, count: point.count)))
        for i in hv.indices { dst[i] = hv[i] }
        return GRADUS_OK
    }

    override func evaluate(_ p: UnsafePointer<UnsafePointer<Float>?>?, _ n: UInt32, _ loss: UnsafeMutablePointer<Double>?,
                           _ grads: UnsafePointer<UnsafeMutablePointer<Float>?>?) -> Int32 {
        guard n == 1, let p, let src = p[0] else {
            PluginErrorSlot.shared.set(GRADUS_ERR_INVALID_ARGUMENT, "evaluate_at: expected 1 tensor for the point, got \(n)")
            return GRADUS_ERR_INVALID_ARGUMENT
        }
        let x = Array(UnsafeBufferPointer(start: src, count: point.count))
        if let dst = grads?[0] {
            let (f, g) = function.valueAndGradient(x)
            loss?.pointee = Double(f)
            for i in g.indices { dst[i] = g[i] }
        } else {
            loss?.pointee = Double(function.value(x))
        }
        return GRADUS_OK
    }
}

/// Runs an optimizer plugin on a test function (the engine of `gradus trace`).
public enum TraceRunner {
    /// Runs `steps` steps from `start` and calls `emit` with step 0 (the start) and each step after.
    /// Stops with an error if the point or the function value stops being finite.
    public static func run(optimizer: StrategyDescriptor, function: TestFunction, start: [Float]? = nil,
                           steps: Int, settings: [(String, String)] = [], schedules: [ScheduledHyperparameter] = [],
                           emit: (TracePoint) -> Void) throws {
        let hp = try HyperparameterSet(schema: optimizer.hyperparameters, overrides: settings, owner: optimizer.id)
        let x0 = start ?? function.start
        guard x0.count == function.start.count else {
            throw GradusError("--start has \(x0.count) coordinates, expected \(function.start.count) for \(function.name)")
        }
        let param = HostParameter(name: "x", role: function.role, shape: function.shape, values: x0)
        let runner = try ScheduleRunner(schedules, hyperparameters: hp, owner: optimizer.id)
        func applySchedules(_ k: Int) throws { try runner.apply(step: k, totalSteps: steps) }
        try applySchedules(0)  // bindings and values are checked before anything is printed
        let session = try OptimizerSession(strategy: optimizer, hyperparameters: hp, parameters: [param], available: HostCapabilities.trainingRun)
        emit(TracePoint(step: 0, x: param.value.values, f: function.value(param.value.values)))
        for k in stride(from: 1, through: steps, by: 1) {
            let x = param.value.values
            let (fx, gradient) = function.valueAndGradient(x)
            param.grad.values = gradient
            try applySchedules(k - 1)
            try session.step(loss: Double(fx), run: TestFunctionRunContext(function: function, point: x))
            // Optimizers that evaluate elsewhere (schedule-free's x) are traced at that point.
            let next = try session.atEvaluationPoint { param.value.values }
            let fNext = function.value(next)
            emit(TracePoint(step: k, x: next, f: fNext))
            guard next.allSatisfy(\.isFinite), fNext.isFinite else {
                throw GradusError("diverged at step \(k): x = \(next), f = \(fNext); try a smaller lr")
            }
        }
    }
}
