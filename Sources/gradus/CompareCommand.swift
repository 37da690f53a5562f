import ArgumentParser
import Foundation
import GradusRuntime

/// `gradus compare`: optimizers side by side on tasks, over seeds, with optional tuning sweeps.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare optimizers on tasks over several seeds (each run a child process), record every run in DIR/runs.sqlite, print the result table and write DIR/report.html.",
        discussion: """
            SPEC is ID or ID:hp=value,hp=value (e.g. sgd:lr=0.05,momentum=0.9; route.matrix=muon and route.matrix.lr=0.02 route \
            parameters as in train). TASK is one of \(CompareTask.names.joined(separator: ", ")), or a training YAML file; test \
            functions are compared as traces (--set steps=N, --set start=x,y). Run k of every optimizer uses seed k (plus --set seed), \
            so they see the same split, initialisation and data order. --sweep tunes each optimizer on a validation split carved \
            from the training data (--validation-fraction), then runs the seeds at its best value; the table reports those only. \
            Running the same command again skips finished runs and redoes interrupted ones. A YAML spec file can hold all of it \
            (docs/EXPERIMENTS.md).
            """)
    @OptionGroup var plugins: PluginOptions
    @Argument(help: "A YAML comparison spec (optional; flags add to it).") var spec: String?
    @Option(name: .customLong("optimizer"), help: "An optimizer SPEC; repeatable; the first is the baseline of the significance column.")
    var optimizers: [String] = []
    @Option(name: .customLong("task"), help: "A task; repeatable.") var tasks: [String] = []
    @Option(parsing: .unconditional, help: "Final runs per task and optimizer (1 to 1000; default 3).") var seeds: String?
    @Option(help: "The output folder (created when missing): runs.sqlite and report.html.") var out: String
    @Option(parsing: .unconditional, help: "Runs at a time (default: the number of cores).") var jobs: String?
    @Option(name: .customLong("set"), help: "A training key for every run, e.g. --set epochs=5; steps=N and start=x,y for test functions; repeatable.")
    var settings: [String] = []
    @Option(name: .customLong("sweep"), help: "Tune HP over a grid, e.g. lr=1e-4..1e-1:log:8 or momentum=0.8,0.9,0.99; repeatable (the grids multiply).")
    var sweeps: [String] = []
    @Option(parsing: .unconditional, help: "Tuning runs per task and optimizer at most: when the grid is larger, this many of its points drawn at random (the same for every optimizer).")
    var budget: String?
    @Option(name: .customLong("target"), help: "METRIC=VALUE for steps and time to target, e.g. test_accuracy=0.95 (or f=1e-6 for test functions); repeatable.")
    var targets: [String] = []
    @Option(parsing: .unconditional, help: "Seconds a run may take before it is killed and recorded as failed (default 3600).") var timeout: String?
    @Option(name: .customLong("validation-fraction"), help: "The share of the training split that scores tuning runs (default 0.2).")
    var validationFraction: String?
    @Option(help: "Write TensorBoard event files here, one subfolder per run (task/optimizer/phase-seed).") var tensorboard: String?
    @Flag(name: .customLong("retry-failed"), help: "Run failed runs again instead of keeping their failure.") var retryFailed = false
    @Flag(name: .customLong("no-report"), help: "Do not write report.html.") var noReport = false

    func run() throws {
        try reportingErrors {
            let options = try resolveOptions()
            var isFolder: ObjCBool = false
            if !noReport, FileManager.default.fileExists(atPath: out, isDirectory: &isFolder), isFolder.boolValue {
                try Report.checkDestination((out as NSString).appendingPathComponent("report.html"), option: "--out")
            }
            let comparison = try Comparison(options: options, directory: out)
            let bar = ProgressBar()
            var firstDone: (Int, Double)?
            comparison.progress = { done, total, elapsed in
                if firstDone == nil { firstDone = (done, elapsed) }
                let (d0, t0) = firstDone!
                let eta = done > d0 ? (elapsed - t0) / Double(done - d0) * Double(total - done) : nil
                bar.update(runs: done, of: total, eta: eta)
            }
            HostSignals.installInterruptHandlers()
            comparison.interruption = { HostSignals.interruption }
            let (done, total) = try comparison.run()
            bar.clear()
            if HostSignals.interruption != 0, done < total {
                printError("interrupted by \(HostSignals.name(HostSignals.interruption)) with \(done) of \(total) runs done: they are recorded in \(comparison.database.path); run the same command again to continue")
                throw ExitCode(128 + HostSignals.interruption)
            }
            let results = try ComparisonResults(database: comparison.database)
            StandardOutput.line(results.table)
            if !noReport {
                let path = (out as NSString).appendingPathComponent("report.html")
                try Report.write(results, to: path)
                StandardOutput.line("report: \(path)")
            }
        }
    }

    func resolveOptions() throws -> ComparisonOptions {
        let file = try spec.map { try ComparisonSpecFile(path: $0) }
        var options = ComparisonOptions()
        options.optimizers = (file?.optimizers ?? []) + (try optimizers.map(OptimizerSpec.parse))
        guard !options.optimizers.isEmpty else { throw GradusError("no optimizer: give --optimizer SPEC (repeatable) or a spec file with optimizers") }
        if let twice = Dictionary(grouping: options.optimizers, by: \.label).first(where: { $0.value.count > 1 }) {
            throw GradusError("--optimizer \(twice.key) is given twice")
        }
        let taskNames = (file?.tasks ?? []) + tasks
        guard !taskNames.isEmpty else { throw GradusError("no task: give --task TASK (one of \(CompareTask.names.joined(separator: ", ")), or a training YAML file)") }
        options.tasks = try taskNames.map(CompareTask.resolve)
        if let twice = Dictionary(grouping: options.tasks, by: \.name).first(where: { $0.value.count > 1 }) { throw GradusError("--task \(twice.key) is given twice") }
        options.seeds = try (seeds ?? file?.seeds).map { try integerOption($0, "--seeds", 1...1000) } ?? 3
        options.jobs = try (jobs ?? file?.jobs).map { try integerOption($0, "--jobs", 1...256) } ?? ProcessInfo.processInfo.activeProcessorCount
        options.timeout = Double(try (timeout ?? file?.timeout).map { try integerOption($0, "--timeout", 1...10_000_000) } ?? 3600)
        if let text = validationFraction ?? file?.validationFraction {
            guard let v = Double(text), v > 0, v < 1 else { throw GradusError("--validation-fraction \(text): expected a number in (0, 1)") }
            options.validationFraction = v
        }
        options.sweeps = try ((file?.sweeps ?? []) + sweeps).map(SweepSpec.parse)
        if let twice = Dictionary(grouping: options.sweeps, by: \.hyperparameter).first(where: { $0.value.count > 1 }) {
            throw GradusError("--sweep \(twice.key) is given twice")
        }
        if let text = budget ?? file?.budget {
            guard !options.sweeps.isEmpty else { throw GradusError("--budget \(text): applies only with --sweep (it caps the tuning runs)") }
            options.budget = try integerOption(text, "--budget", 1...SweepSpec.maxPoints)
        }
        options.targets = try ((file?.targets ?? []) + targets).map(TargetSpec.parse)
        if options.targets.filter({ $0.metric == "f" }).count > 1 || options.targets.filter({ $0.metric != "f" }).count > 1 {
            throw GradusError("--target: give at most one target for training tasks and one (f=...) for test functions")
        }
        options.retryFailed = retryFailed
        options.tensorboard = tensorboard.map(Compare.absolute)
        if let folder = tensorboard {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), !isDirectory.boolValue {
                throw GradusError("--tensorboard \(folder): exists and is not a folder")
            }
        }
        options.pluginArguments = plugins.pluginPaths.flatMap { ["--plugin-path", Compare.absolute($0)] }
            + plugins.pluginFiles.flatMap { ["--plugin", Compare.absolute($0)] } + (plugins.allowInsecure ? ["--allow-insecure-plugins"] : [])
        // Settings: steps/start go to traces, seed is the base seed, the rest must be training keys.
        var check = TrainConfig()
        for (key, value) in (file?.settings ?? []) + (try parseSettings(settings)) {
            switch key {
            case "steps": options.traceSteps = try integerOption(value, "--set steps=", 1...Trace.maxSteps)
            case "start":
                let parts = value.split(separator: ",", omittingEmptySubsequences: false).map { Float($0.trimmingCharacters(in: .whitespaces)) }
                guard parts.count == 2, parts.allSatisfy({ $0?.isFinite ?? false }) else {
                    throw GradusError("--set start=\(value): expected two finite numbers x,y (e.g. start=-1.2,1)")
                }
                options.traceStart = value
            case "seed":
                // Run k has seed base + k; the database stores seeds as signed 64-bit integers.
                guard let s = Int64(value), s >= 0 else { throw GradusError("--set seed=\(value): expected an integer in 0...\(Int64.max)") }
                options.baseSeed = UInt64(s)
            case "validation_fraction": throw GradusError("--set validation_fraction: the comparison sets it for tuning runs; use --validation-fraction")
            case "optimizer", "optimizer.id": throw GradusError("--set \(key)=\(value): the optimizers of a comparison come from --optimizer")
            default:
                options.settings.append((key, value))
            }
        }
        // Checked together (route.matrix.lr needs route.matrix), before anything runs.
        try TrainConfigParsing.apply(options.settings, to: &check)
        if options.baseSeed > UInt64(Int64.max) - UInt64(options.seeds - 1) {
            throw GradusError("--set seed=\(options.baseSeed) with --seeds \(options.seeds): run k has seed \(options.baseSeed) + k, which must stay at most \(Int64.max)")
        }
        for o in options.optimizers where options.tasks.contains(where: { $0.kind == .trace }) {
            if let s = o.settings.first(where: \.isTrainingKey) {
                throw GradusError("--optimizer \(o.label): \(s.key) applies to training tasks only, and a test function is among the tasks")
            }
        }
        return options
    }

    static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}
