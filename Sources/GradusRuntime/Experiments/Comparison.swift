import Foundation

/// `gradus compare`: every (task, optimizer, seed) run — and with sweeps every tuning run first —
/// as a child process of this program, `jobs` at a time, recorded in `DIR/runs.sqlite`. A run
/// that crashes, hangs or fails is recorded with its reason and the others go on; finished runs
/// are skipped when the same comparison is run again, and interrupted ones are redone.
public final class Comparison {
    public let options: ComparisonOptions
    public let directory: String
    public let database: ExperimentDatabase
    /// The program the runs are children of (this executable).
    public let executable: String
    /// Each optimizer's description, and its tuning grid (one empty point without sweeps).
    let schemas: [String: OptimizerSchema]
    let grids: [String: [[(String, String)]]]
    /// Called after each run ends: (runs done, runs in all, seconds since the start).
    public var progress: ((Int, Int, Double) -> Void)?
    /// Polled before each run starts: a non-zero signal number stops scheduling new runs.
    public var interruption: (() -> Int32)?
    private let lock = NSLock()
    /// The descriptor holding the folder's lock.
    private let folderLock: Int32

    public static let databaseName = "runs.sqlite"

    /// Checks the optimizers and sweeps (nothing is written when they are wrong), then opens or
    /// creates `directory` and its database.
    public init(options: ComparisonOptions, directory: String, executable: String = ChildProcess.currentExecutable) throws {
        self.options = options
        self.directory = directory
        self.executable = executable
        schemas = try Comparison.describe(options, executable: executable)
        for spec in options.optimizers {
            guard let schema = schemas[spec.id], schema.failure == nil else { continue }
            if let s = spec.settings.first(where: { !$0.isTrainingKey && schema.hyperparameters[$0.key] == nil }) {
                throw GradusError("--optimizer \(spec.label): \(schema.id) has no hyperparameter '\(s.key)' (it has: \(schema.hyperparameters.keys.sorted().joined(separator: ", ")))")
            }
            var check = TrainConfig()
            try TrainConfigParsing.apply(spec.settings.filter(\.isTrainingKey).map { ($0.key, $0.value) }, to: &check)
        }
        var grids: [String: [[(String, String)]]] = [:]
        for spec in options.optimizers where grids[spec.label] == nil {
            if let schema = schemas[spec.id], schema.failure == nil { grids[spec.label] = try options.grid(for: schema) } else { grids[spec.label] = [[]] }
        }
        self.grids = grids
        try Comparison.preflight(options, schemas: schemas, grids: grids, executable: executable)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw GradusError("--out \(directory): exists and is not a folder") }
        } else {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw GradusError("--out \(directory): cannot create the folder: \(error.localizedDescription)")
            }
        }
        // The database first: a folder holding something else is refused before a lock file is made.
        database = try ExperimentDatabase(path: (directory as NSString).appendingPathComponent(Comparison.databaseName))
        folderLock = try Comparison.lockFolder(directory)
    }

    deinit { close(folderLock) }

    /// One comparison per folder at a time: an exclusive `flock` on DIR/runs.sqlite.lock, held
    /// while this comparison lives (the kernel releases it when the process ends, however it ends).
    static func lockFolder(_ directory: String) throws -> Int32 {
        let path = (directory as NSString).appendingPathComponent(databaseName + ".lock")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw GradusError("--out \(directory): cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw GradusError("--out \(directory): another gradus compare is using this folder (\(path) is locked); wait for it to end or choose another folder")
        }
        return fd
    }

    /// Describes each optimizer through a child `gradus plugins info --json` (an unknown id is an
    /// error before anything runs; a library that crashes fails only that optimizer's runs).
    static func describe(_ options: ComparisonOptions, executable: String) throws -> [String: OptimizerSchema] {
        var out: [String: OptimizerSchema] = [:]
        for spec in options.optimizers where out[spec.id] == nil {
            let outcome = try ChildProcess.run(executable, ["plugins", "info"] + options.pluginArguments + [spec.id, "--json"], timeout: 120)
            switch outcome.ending {
            case .exited(0):
                guard let object = try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any],
                      let kind = object["kind"] as? String, let id = object["id"] as? String else {
                    out[spec.id] = OptimizerSchema(id: spec.id, version: "", hyperparameters: [:], failure: "plugins info printed no description")
                    continue
                }
                guard kind == "optimizer" else { throw GradusError("--optimizer \(spec.label): '\(id)' is a \(kind), not an optimizer") }
                var hps: [String: (String, [String])] = [:]
                for hp in object["hyperparameters"] as? [[String: Any]] ?? [] {
                    if let hid = hp["id"] as? String { hps[hid] = (hp["type"] as? String ?? "", hp["flags"] as? [String] ?? []) }
                }
                out[spec.id] = OptimizerSchema(id: id, version: object["version"] as? String ?? "", hyperparameters: hps.mapValues { (type: $0.0, flags: $0.1) }, failure: nil)
            case .exited:
                throw GradusError("--optimizer \(spec.label): \(Comparison.errorLine(outcome.stderr))")
            case .signaled(let signal):
                out[spec.id] = OptimizerSchema(id: spec.id, version: "", hyperparameters: [:], failure: "loading the plugin crashed (\(HostSignals.name(signal)))\(Comparison.lastLine(outcome.stderr))")
            case .timedOut:
                out[spec.id] = OptimizerSchema(id: spec.id, version: "", hyperparameters: [:], failure: "loading the plugin did not finish within 120 s")
            }
        }
        return out
    }

    /// Builds each optimizer's run on each training task once in a child (`train --check-only`,
    /// or a 0-step trace when every task is a test function), at the first and last point of its
    /// grid, so that a bad hyperparameter value, an unknown route or a missing dataset is one error
    /// before anything is written rather than N failed runs. A check that crashes or hangs is let
    /// pass: the runs themselves will fail with the details.
    static func preflight(_ options: ComparisonOptions, schemas: [String: OptimizerSchema], grids: [String: [[(String, String)]]],
                          executable: String) throws {
        let trainTasks = options.tasks.filter { $0.kind == .train }
        let tasks = trainTasks.isEmpty ? Array(options.tasks.prefix(1)) : trainTasks
        for task in tasks {
            for spec in options.optimizers where schemas[spec.id]?.failure == nil {
                let grid = grids[spec.label] ?? [[]]
                for point in Set([0, grid.count - 1]).sorted().map({ grid[$0] }) {
                    var arguments = options.arguments(task: task, optimizer: spec, seed: options.baseSeed, sweep: point, tuning: !options.sweeps.isEmpty)
                    if task.kind == .train { arguments.append("--check-only") } else if let i = arguments.firstIndex(of: "--steps") { arguments[i + 1] = "0" }
                    arguments.insert(contentsOf: options.pluginArguments, at: 1)
                    let outcome = try ChildProcess.run(executable, arguments, timeout: 300, keepStandardOutput: false)
                    guard case .exited(let code) = outcome.ending, code != 0 else { continue }
                    let at = point.isEmpty ? "" : " at " + point.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
                    throw GradusError("--optimizer \(spec.label) on --task \(task.name)\(at): \(Comparison.errorLine(outcome.stderr))")
                }
            }
        }
    }

    /// Runs the comparison: tuning runs (with sweeps), then the final runs at each optimizer's
    /// best values. Returns the run count (done, in all).
    @discardableResult
    public func run() throws -> (done: Int, total: Int) {
        let tuning = !options.sweeps.isEmpty
        let started = Date()
        var tuneRuns: [ComparisonRun] = []
        if tuning {
            for task in options.tasks {
                for spec in options.optimizers {
                    for point in grids[spec.label]! {
                        tuneRuns.append(ComparisonRun(task: task, optimizer: spec, phase: "tune", seed: options.baseSeed, sweep: point,
                                                      arguments: options.arguments(task: task, optimizer: spec, seed: options.baseSeed, sweep: point, tuning: true)))
                    }
                }
            }
        }
        let finalCount = options.tasks.reduce(0) { $0 + $1.seedsToRun(options.seeds) } * options.optimizers.count
        let total = tuneRuns.count + finalCount
        try recordPlan(tuneRuns)
        let tuneKeys = Set(tuneRuns.map(\.key))
        var done = try execute(tuneRuns, schemas: schemas, doneBefore: 0, total: total, started: started)
        // Interrupted while tuning: the best values are not known yet, so no final run is planned.
        if (interruption?() ?? 0) != 0 { return (done, total) }
        var finalRuns: [ComparisonRun] = []
        for task in options.tasks {
            for spec in options.optimizers {
                let best = tuning ? try bestPoint(task: task, optimizer: spec, among: tuneKeys) : []
                for k in 0..<task.seedsToRun(options.seeds) {
                    let seed = options.baseSeed &+ UInt64(k)
                    var run = ComparisonRun(task: task, optimizer: spec, phase: "final", seed: seed, sweep: best ?? [],
                                            arguments: options.arguments(task: task, optimizer: spec, seed: seed, sweep: best ?? [], tuning: false))
                    // Untuned, the run would compare the optimizer at values nobody chose: it fails instead.
                    if best == nil { run.failure = "no tuning run of \(spec.label) on \(task.name) finished with a finite score" }
                    finalRuns.append(run)
                }
            }
        }
        try recordPlan(tuneRuns + finalRuns)
        done = try execute(finalRuns, schemas: schemas, doneBefore: done, total: total, started: started)
        return (done, total)
    }

    /// The comparison as the report reads it back: tasks, optimizers in order (the first is the
    /// baseline of the significance column), seeds, targets, sweeps.
    func recordPlan(_ runs: [ComparisonRun]) throws {
        let plan = JSONText.object([
            ("tasks", JSONText.array(options.tasks.map { JSONText.object([("name", JSONText.string($0.name)), ("kind", JSONText.string($0.kind.rawValue))]) })),
            ("optimizers", JSONText.array(options.optimizers.map { JSONText.string($0.label) })),
            ("seeds", "\(options.seeds)"), ("base_seed", "\(options.baseSeed)"),
            ("targets", JSONText.array(options.targets.map { JSONText.string($0.text) })),
            ("sweeps", JSONText.array(options.sweeps.map { JSONText.string($0.text) })),
            ("run_keys", JSONText.array(runs.map { JSONText.string($0.key) })),
        ])
        try database.setMeta("comparison", plan)
    }

    /// The swept values of the best finished tuning run of (task, optimizer): the highest final
    /// validation accuracy (or the lowest validation loss or final f, per the task's metric);
    /// nil when no tuning run finished with a finite score.
    func bestPoint(task: CompareTask, optimizer: OptimizerSpec, among keys: Set<String>) throws -> [(String, String)]? {
        let metric = task.kind == .trace ? "f" : options.metric(for: task).replacingOccurrences(of: "test_", with: "val_")
        let higher = TargetSpec.higherIsBetter(metric)
        var best: (score: Double, sweep: String)?
        for run in try database.runs() where keys.contains(run.key) && run.task == task.name && run.optimizer == optimizer.label && run.status == "finished" {
            guard let score = try database.series(run: run.id, metric).last?.value, score.isFinite, let sweep = run.sweep else { continue }
            if best == nil || (higher ? score > best!.score : score < best!.score) { best = (score, sweep) }
        }
        guard let best, let object = try? JSONSerialization.jsonObject(with: Data(best.sweep.utf8)) as? [String: Any] else { return nil }
        return options.sweeps.compactMap { s in (object[s.hyperparameter] as? String).map { (s.hyperparameter, $0) } }
    }

    /// Runs what is not finished yet, `jobs` at a time; returns the runs done so far.
    func execute(_ runs: [ComparisonRun], schemas: [String: OptimizerSchema], doneBefore: Int, total: Int, started: Date) throws -> Int {
        var queue: [(ComparisonRun, Int64)] = []
        var done = doneBefore
        for run in runs {
            var (id, status) = try database.plan(run.planned())
            if status == "failed", options.retryFailed { try database.reset(run: id); status = "pending" }
            if status == "finished" || status == "failed" { done += 1; continue }
            if let failure = schemas[run.optimizer.id]?.failure ?? run.failure {
                try database.fail(run: id, reason: failure, wallSeconds: nil)
                done += 1
                continue
            }
            queue.append((run, id))
        }
        progress?(done, total, Date().timeIntervalSince(started))
        let work = queue
        let shared = SharedProgress(done: done)
        let finished = DispatchGroup()
        for _ in 0..<max(1, min(options.jobs, queue.count)) {
            finished.enter()
            let thread = Thread { [self] in
                defer { finished.leave() }
                while true {
                    lock.lock()
                    let stop = shared.next >= work.count || shared.error != nil || (interruption?() ?? 0) != 0
                    let item = stop ? nil : work[shared.next]
                    shared.next += 1
                    lock.unlock()
                    guard let (run, id) = item else { return }
                    do {
                        try execute(run, id: id)
                    } catch {
                        lock.lock(); shared.error = shared.error ?? error; lock.unlock()
                        return
                    }
                    lock.lock()
                    shared.done += 1
                    progress?(shared.done, total, Date().timeIntervalSince(started))
                    lock.unlock()
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        finished.wait()
        if let error = shared.error { throw error }
        return shared.done
    }

    /// The workers' shared position, guarded by `lock`.
    private final class SharedProgress: @unchecked Sendable {
        var next = 0, done: Int
        var error: Error?
        init(done: Int) { self.done = done }
    }

    /// One run in a child process; what the child did not record itself (a crash, a hang, an
    /// exit without an end) is recorded here.
    func execute(_ run: ComparisonRun, id: Int64) throws {
        var environment = ProcessInfo.processInfo.environment
        if options.jobs > 1, environment["OPENBLAS_NUM_THREADS"] == nil { environment["OPENBLAS_NUM_THREADS"] = "1" }
        let arguments = Array(run.arguments.prefix(1)) + options.pluginArguments + Array(run.arguments.dropFirst())
            + ["--db", database.path, "--run-id", String(id)]
            + (options.tensorboard.map { ["--tensorboard", ($0 as NSString).appendingPathComponent(run.tensorboardFolder)] } ?? [])
        let start = Date()
        let outcome = try ChildProcess.run(executable, arguments, timeout: options.timeout, environment: environment, keepStandardOutput: false)
        let seconds = Date().timeIntervalSince(start)
        lock.lock()
        defer { lock.unlock() }
        let status = try database.connection.query("SELECT status FROM runs WHERE id = ?", [.integer(id)]).first?.first?.string
        switch (outcome.ending, status) {
        case (_, "finished"), (_, "failed"):
            return
        case _ where (interruption?() ?? 0) != 0:
            return  // stopped with the comparison: left `running`, redone when it is run again
        case (.exited(let code), _):
            try database.fail(run: id, reason: "exited with status \(code) without recording its end\(Comparison.lastLine(outcome.stderr))", wallSeconds: seconds)
        case (.signaled(let signal), _):
            try database.fail(run: id, reason: "crashed: \(HostSignals.name(signal))\(Comparison.lastLine(outcome.stderr))", wallSeconds: seconds)
        case (.timedOut, _):
            try database.fail(run: id, reason: "timed out after \(Int(options.timeout)) s (killed)", wallSeconds: seconds)
        }
    }

    /// " — <the child's last stderr line>" when it printed one.
    /// The error a child reported (its "gradus: error:" line without that prefix, else its last line).
    static func errorLine(_ stderr: String) -> String {
        let lines = stderr.split(separator: "\n")
        return (lines.first { $0.contains("error:") } ?? lines.last ?? "").replacingOccurrences(of: "gradus: error: ", with: "")
    }

    static func lastLine(_ stderr: String) -> String {
        guard let line = stderr.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { return "" }
        return " — " + line.replacingOccurrences(of: "gradus: ", with: "").prefix(300)
    }
}

extension CompareTask {
    /// Final runs per optimizer: `seeds` for training tasks; one for a trace, which has no
    /// randomness of its own to vary (the optimizer's seeded streams start the same).
    func seedsToRun(_ seeds: Int) -> Int { kind == .trace ? 1 : seeds }
}
