import ArgumentParser
import Foundation
import GradusRuntime

/// `gradus trace`: an optimizer on a standard test function, one JSON line per step.
struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an optimizer on a test function and print {\"step\", \"x\", \"f\"} as JSON Lines, starting at step 0.",
        discussion: """
            Functions: \(TestFunction.names.joined(separator: ", ")). Negative starts are written --start=-1.2,1. \
            least_squares is f(X) = ½‖A·X − B‖²_F / m with A, B and the start X0 read from --data DIR \
            (a.npy [m, k], b.npy [m, n], x0.npy [k, n]); X is one matrix parameter and "x" lists it row-major.
            """
    )
    @OptionGroup var plugins: PluginOptions
    @Option(help: "Optimizer id, e.g. adam or gradus.sgd.") var optimizer: String = "adam"
    @Option(help: "Test function name.") var function: String = "rosenbrock"
    @Option(parsing: .unconditional, help: "Number of optimizer steps (0 to 100000000).") var steps: String = "100"
    @Option(help: "For least_squares: a folder with a.npy, b.npy and x0.npy.") var data: String?
    @Option(parsing: .unconditional, help: "Starting point x,y (default: the function's usual start); --start -1.2,1 and --start=-1.2,1 both work.") var start: String?
    @Option(name: .customLong("set"), help: "Hyperparameter key=value (e.g. lr=0.01, beta1=0.9); repeatable.") var settings: [String] = []
    @Option(name: .customLong("schedule"), help: "HP=FUNCTION: drive a hyperparameter with a schedule plugin, e.g. lr=cosine_warmup; its arguments come from --set FUNCTION.ARG=value.")
    var schedules: [String] = []
    @Option(help: "Record the trace (configuration, hyperparameters, and f and x at every step) in this SQLite experiment database (docs/EXPERIMENTS.md).")
    var db: String?
    @Option(name: .customLong("run-id"), help: .hidden) var runID: String?
    @Option(help: "Write TensorBoard event files (f at every step) into this folder, created when missing.")
    var tensorboard: String?

    func run() throws {
        try reportingErrors {
            guard let steps = Int(steps), (0...Trace.maxSteps).contains(steps) else {
                throw GradusError("--steps \(self.steps): expected an integer in 0...\(Trace.maxSteps)")
            }
            let registry = plugins.registry()
            let opt = try registry.require(optimizer, kind: .optimizer)
            let fn: TestFunction
            if function.lowercased() == "least_squares", let data {
                guard start == nil else { throw GradusError("--start does not apply to least_squares: its start is x0.npy in \(data)") }
                fn = try TestFunction.leastSquares(data: data)
            } else {
                fn = try TestFunction.named(function)
                if data != nil { throw GradusError("--data applies only to --function least_squares, not \(function)") }
            }
            let startPoint = try start.map(Trace.parsePoint)
            let all = try parseSettings(settings)
            let scheduled = try schedules.map { try Trace.schedule($0, registry: registry, settings: all) }
            let scheduleIDs = Set(scheduled.map { $0.caller.id.split(separator: ".").last.map(String.init) ?? "" } + scheduled.map(\.caller.id))
            let own = all.filter { key, _ in
                guard let dot = key.firstIndex(of: ".") else { return true }
                return !scheduleIDs.contains(String(key[..<dot]))
            }
            let recorder = try db.map { path in
                try RunRecorder(path: path, runID: try runID.map(RunIdentifier.parse)) {
                    ExperimentDatabase.PlannedRun(key: RunRecorder.singleRunKey("trace"), task: fn.name, taskKind: "trace", optimizer: optimizer,
                                                  phase: "single", seed: 0, sweep: nil, arguments: Array(CommandLine.arguments.dropFirst()))
                }
            }
            if runID != nil, recorder == nil { throw GradusError("--run-id needs --db") }
            if runID != nil, !HostSignals.terminateWithParent() { throw ExitCode(143) }
            // Rows not yet written when the trace stops (a divergence keeps the steps before it).
            var pending: [(step: Int64, epoch: Int?, values: [(String, Double)])] = []
            do {
                if let recorder {
                    let hp = try HyperparameterSet(schema: opt.hyperparameters, overrides: own, owner: opt.id)
                    var config = [("function", fn.name), ("steps", String(steps))]
                    if let start { config.append(("start", start)) }
                    if let data { config.append(("data", data)) }
                    config += own.map { ("optimizer." + $0.0, $0.1) } + schedules.map { ("schedule", $0) }
                    var plugins = [opt.id: opt.version]
                    for s in scheduled { plugins[s.caller.id] = s.caller.version }
                    try recorder.begin(optimizerID: opt.id, config: config, plugins: plugins, hyperparameters: hp.resolved("optimizer"))
                }
                let events = try tensorboard.map { try TensorBoardWriter(directory: $0) }
                var recordingError: Error?
                try TraceRunner.run(optimizer: opt, function: fn, start: startPoint, steps: steps, settings: own,
                                    schedules: scheduled) { point in
                    StandardOutput.line(point.jsonLine)
                    do { try events?.scalars(step: Int64(point.step), [("f", Double(point.f))]) } catch { recordingError = recordingError ?? error }
                    guard recorder != nil else { return }
                    let coordinates = point.x.count <= Trace.recordedCoordinates ? point.x.enumerated().map { ("x[\($0.offset)]", Double($0.element)) } : []
                    pending.append((Int64(point.step), nil, [("f", Double(point.f))] + coordinates))
                    guard pending.count >= 1000 else { return }
                    do { try recorder?.record(rows: pending) } catch { recordingError = recordingError ?? error }
                    pending = []
                }
                if let recordingError { throw recordingError }
                try recorder?.record(rows: pending)
                pending = []
                try recorder?.finish(steps: Int64(steps))
            } catch let error as GradusError {
                try? recorder?.record(rows: pending)
                recorder?.fail(error.message)
                throw error
            }
        }
    }

    /// Points with at most this many coordinates have them recorded in the database (for the
    /// report's trajectories); larger ones record f only.
    static let recordedCoordinates = 16

    static let maxSteps = 100_000_000

    static func parsePoint(_ text: String) throws -> [Float] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, parts.allSatisfy({ $0 != nil && $0!.isFinite }) else {
            throw GradusError("--start=\(text): expected two finite numbers x,y (e.g. --start=-1.2,1)")
        }
        return parts.map { $0! }
    }

    /// `lr=cosine_warmup` plus `--set cosine_warmup.total_steps=...` style arguments.
    static func schedule(_ text: String, registry: PluginRegistry, settings: [(String, String)]) throws -> ScheduledHyperparameter {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex, text.index(after: eq) != text.endIndex else {
            throw GradusError("--schedule \(text): expected HYPERPARAMETER=FUNCTION (e.g. lr=cosine_warmup)")
        }
        let function = try registry.require(String(text[text.index(after: eq)...]), kind: .function)
        let caller = try FunctionCaller(function)
        let short = function.id.split(separator: ".").last.map(String.init) ?? function.id
        var args: [String: FFIArgument] = [:]
        for (key, value) in settings {
            for prefix in [function.id + ".", short + "."] where key.hasPrefix(prefix) {
                args[String(key.dropFirst(prefix.count))] = .text(value)
            }
        }
        return ScheduledHyperparameter(hyperparameter: String(text[..<eq]), caller: caller, arguments: args)
    }
}
