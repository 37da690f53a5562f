import Foundation
import GradusCore

/// Everything `gradus compare` was asked for, after parsing.
public struct ComparisonOptions: Sendable {
    public var optimizers: [OptimizerSpec] = []
    public var tasks: [CompareTask] = []
    /// Final runs per task and optimizer; run k uses seed `baseSeed + k` for every optimizer.
    public var seeds = 3
    public var baseSeed: UInt64 = 0
    /// Training keys applied to every training run (after the task's preset).
    public var settings: [(String, String)] = []
    /// Steps and start point of test-function traces.
    public var traceSteps = 500
    public var traceStart: String?
    public var sweeps: [SweepSpec] = []
    /// Tuning runs per task and optimizer at most (nil: the whole grid).
    public var budget: Int?
    /// Targets by metric (one for training tasks, one for traces at most).
    public var targets: [TargetSpec] = []
    /// The share of the training split held out to score tuning runs.
    public var validationFraction = 0.2
    public var jobs = 1
    /// Seconds a run may take before it is killed and recorded as failed.
    public var timeout = 3600.0
    /// Run failed runs again instead of keeping their failure.
    public var retryFailed = false
    /// A folder for TensorBoard event files: each run writes into its own subfolder
    /// (task/optimizer/phase-seed[-swept values]).
    public var tensorboard: String?
    /// `--plugin-path`/`--plugin`/`--allow-insecure-plugins` arguments passed to every child.
    public var pluginArguments: [String] = []
    public init() {}

    /// The target that applies to a task (by the kind of metric it names).
    public func target(for task: CompareTask) -> TargetSpec? {
        targets.first { ($0.metric == "f") == (task.kind == .trace) }
    }

    /// The metric runs of `task` are judged by.
    public func metric(for task: CompareTask) -> String { target(for: task)?.metric ?? task.defaultMetric }
}

/// What a comparison learned about an optimizer from `gradus plugins info ID --json`, run as a
/// child so that a library that crashes while loading cannot take the comparison with it.
public struct OptimizerSchema: Sendable {
    public let id: String
    public let version: String
    /// Hyperparameter id → (type, flags).
    public let hyperparameters: [String: (type: String, flags: [String])]
    /// Why the plugin could not be described (its runs fail with this reason); nil when it could.
    public let failure: String?
}

/// One run of a comparison, before it runs.
struct ComparisonRun {
    let task: CompareTask
    let optimizer: OptimizerSpec
    let phase: String
    let seed: UInt64
    /// The swept values of a tuning run (or the chosen ones of a final run), in sweep order.
    let sweep: [(String, String)]
    /// The child's arguments after the plugin options, without the database ones.
    let arguments: [String]
    /// Why the run fails without being started (nil: it runs).
    var failure: String?

    /// The run's TensorBoard subfolder: task/optimizer/phase-seed[-hp=value...], each part made
    /// safe as a file name.
    var tensorboardFolder: String {
        func safe(_ s: String) -> String {
            String(s.map { $0.isLetter || $0.isNumber || "._=,+-".contains($0) ? $0 : "_" }).prefix(120).description
        }
        let point = sweep.map { "-\($0.0)=\($0.1)" }.joined()
        return [safe(task.name), safe(optimizer.label), safe("\(phase)-seed\(seed)\(point)")].joined(separator: "/")
    }

    /// The run's identity. A final run that fails because its tuning found nothing is marked
    /// apart, so that it never stands for (or is stood for by) a run of an untuned comparison with
    /// the same arguments.
    var key: String { JSONText.array(([task.name, failure == nil ? phase : phase + "/untuned", optimizer.label] + arguments).map(JSONText.string)) }
    /// The swept values as a JSON object of strings (the settings' exact text).
    var sweepJSON: String? { sweep.isEmpty ? nil : JSONText.object(sweep.map { ($0.0, JSONText.string($0.1)) }) }

    func planned() -> ExperimentDatabase.PlannedRun {
        ExperimentDatabase.PlannedRun(key: key, task: task.name, taskKind: task.kind.rawValue, optimizer: optimizer.label, phase: phase,
                                      seed: seed, sweep: sweepJSON, arguments: arguments)
    }
}

extension ComparisonOptions {
    /// The child arguments of one run (without plugin and database options).
    func arguments(task: CompareTask, optimizer: OptimizerSpec, seed: UInt64, sweep: [(String, String)], tuning: Bool) -> [String] {
        switch task.kind {
        case .train:
            var pairs = task.settings + settings + [("optimizer", optimizer.id)]
            pairs += optimizer.settings.map { ($0.isTrainingKey ? $0.key : "optimizer." + $0.key, $0.value) }
            pairs += sweep.map { ("optimizer." + $0.0, $0.1) }
            pairs.append(("seed", String(seed)))
            if tuning { pairs.append(("validation_fraction", "\(validationFraction)")) }
            return ["train"] + (task.configFile.map { [$0] } ?? []) + pairs.flatMap { ["--set", "\($0.0)=\($0.1)"] }
        case .trace:
            var args = ["trace", "--optimizer", optimizer.id, "--function", task.name, "--steps", String(traceSteps)]
            if let traceStart { args.append("--start=\(traceStart)") }
            for s in optimizer.settings { args += ["--set", "\(s.key)=\(s.value)"] }
            for (k, v) in sweep { args += ["--set", "\(k)=\(v)"] }
            return args
        }
    }

    /// The tuning grid of an optimizer: every combination of the sweeps' values, as settings.
    func grid(for schema: OptimizerSchema) throws -> [[(String, String)]] {
        var combinations: [[(String, String)]] = [[]]
        for sweep in sweeps {
            guard let hp = schema.hyperparameters[sweep.hyperparameter] else {
                throw GradusError("--sweep \(sweep.text): \(schema.id) has no hyperparameter '\(sweep.hyperparameter)' (it has: \(schema.hyperparameters.keys.sorted().joined(separator: ", ")))")
            }
            guard ["f64", "i64"].contains(hp.type) else {
                throw GradusError("--sweep \(sweep.text): \(schema.id)'s '\(sweep.hyperparameter)' is a \(hp.type), expected a number")
            }
            let integer = hp.type == "i64"
            let values = try sweep.grid(logScaleByDefault: hp.flags.contains("log_scale"), integer: integer)
            combinations = combinations.flatMap { c in values.map { c + [(sweep.hyperparameter, SweepSpec.text($0, integer: integer))] } }
            guard combinations.count <= SweepSpec.maxPoints else {
                throw GradusError("--sweep: the grids multiply to more than \(SweepSpec.maxPoints) points per optimizer")
            }
        }
        // A tuning budget smaller than the grid: that many points drawn without replacement
        // (random search over the grid, Bergstra & Bengio 2012), the same draw for every optimizer
        // whose grid has the same size, kept in grid order.
        if let budget, budget < combinations.count {
            var rng = RandomStream(seed: baseSeed, stream: "budget")
            let chosen = Dataset.permutation(combinations.count, &rng).prefix(budget).sorted()
            combinations = chosen.map { combinations[$0] }
        }
        return combinations
    }
}
