/// Drives hyperparameters of one plugin instance with schedule functions (function plugins
/// called through libffi). Each function gets `step` (0-based update index), `base` (the
/// configured value) and `total_steps`, plus the arguments from the configuration.
public struct ScheduleRunner {
    let schedules: [ScheduledHyperparameter]
    let hyperparameters: HyperparameterSet
    let bases: [(index: Int, base: Double)]

    /// Checks every scheduled hyperparameter exists and is schedulable; the configured
    /// values become the `base` arguments.
    public init(_ schedules: [ScheduledHyperparameter], hyperparameters hp: HyperparameterSet, owner: String) throws {
        self.schedules = schedules
        hyperparameters = hp
        for s in schedules {
            let names = s.caller.signature.arguments.map(\.name)
            let settable = names.filter { !ScheduleRunner.hostBound.contains($0) }
            if let unknown = s.arguments.keys.sorted().first(where: { !settable.contains($0) }) {
                throw GradusError("\(s.caller.id): unknown argument '\(unknown)' for '\(s.caller.signature)' (settable: \(settable.isEmpty ? "none" : settable.joined(separator: ", ")); step and base come from the run)")
            }
        }
        bases = try schedules.map { s in
            guard let i = hp.index(of: s.hyperparameter) else {
                throw GradusError("cannot schedule unknown hyperparameter '\(s.hyperparameter)' of \(owner) (it has: \(hp.schema.map(\.id).joined(separator: ", ")))")
            }
            guard hp.schema[i].isSchedulable, let base = hp.values[i].numeric else {
                throw GradusError("\(owner): '\(s.hyperparameter)' is not schedulable")
            }
            return (i, base)
        }
    }

    /// Arguments the run binds itself (`total_steps` too, unless the configuration sets it).
    static let hostBound: Set<String> = ["step", "base"]

    /// Sets every scheduled hyperparameter to its value for update `step` (0-based).
    public func apply(step: Int, totalSteps: Int) throws {
        for (s, b) in zip(schedules, bases) {
            var args = s.arguments
            args["step"] = .value(.i64(Int64(step)))
            args["base"] = .value(.f64(b.base))
            if args["total_steps"] == nil { args["total_steps"] = .value(.i64(Int64(totalSteps))) }
            guard let v = try s.caller.call(args).asDouble, v.isFinite else {
                throw GradusError("schedule \(s.caller.id) gave no finite value for \(s.hyperparameter) at step \(step); check its arguments")
            }
            if hyperparameters.schema[b.index].type == .integer {
                guard let i = Int64(exactly: v.rounded(.towardZero)) else {
                    throw GradusError("schedule \(s.caller.id) gave \(v) for the integer \(s.hyperparameter) at step \(step), outside the 64-bit range")
                }
                try hyperparameters.set(b.index, .integer(i))
            } else {
                try hyperparameters.set(b.index, .real(v))
            }
        }
    }
}
