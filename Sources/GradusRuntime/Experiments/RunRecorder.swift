import Foundation

/// Records one run (`gradus train --db`, `gradus trace --db`, or a comparison's child) into an
/// experiment database: what it resolved when it starts, its metric rows as they come, and how
/// it ended. Each call is one transaction, so the database stays consistent if the process dies.
public final class RunRecorder {
    public let database: ExperimentDatabase
    public let runID: Int64
    private let started = Date()

    /// Records into the existing run `runID` (a comparison planned it), or into a new run of
    /// phase `single` described by `single` when `runID` is nil.
    public init(path: String, runID: Int64?, single: () -> ExperimentDatabase.PlannedRun) throws {
        database = try ExperimentDatabase(path: path, create: runID == nil)
        if let runID {
            self.runID = runID
        } else {
            self.runID = try database.plan(single()).id
        }
    }

    /// Marks the run started with everything it resolved; the git commit of the working
    /// directory's repository is added when there is one.
    public func begin(optimizerID: String, config: [(String, String)], plugins: [String: String],
                      hyperparameters: [(component: String, name: String, value: String)]) throws {
        try database.start(run: runID, optimizerID: optimizerID, config: config, plugins: plugins,
                           hyperparameters: hyperparameters, gitCommit: RunRecorder.gitCommit())
    }

    public func record(step: Int64, epoch: Int?, _ values: [(String, Double)]) throws {
        try database.record(run: runID, step: step, epoch: epoch, values)
    }

    public func record(rows: [(step: Int64, epoch: Int?, values: [(String, Double)])]) throws {
        try database.record(run: runID, rows: rows)
    }

    public func finish(steps: Int64) throws {
        try database.finish(run: runID, wallSeconds: Date().timeIntervalSince(started), steps: steps)
    }

    /// Marks the run failed; a failure to record that is not reported over the original error.
    public func fail(_ reason: String) {
        try? database.fail(run: runID, reason: reason, wallSeconds: Date().timeIntervalSince(started))
    }

    /// A fresh key for a run that no comparison planned.
    public static func singleRunKey(_ kind: String) -> String { "\(kind)/\(UUID().uuidString.lowercased())" }

    /// `git rev-parse HEAD` of the working directory (with "-dirty" when tracked files changed),
    /// or nil outside a repository or without git.
    public static func gitCommit() -> String? {
        guard let git = ["/usr/bin/git", "/usr/local/bin/git", "/bin/git"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }),
              let head = try? ChildProcess.run(git, ["rev-parse", "HEAD"], timeout: 10), head.exitStatus == 0 else { return nil }
        let commit = head.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !commit.isEmpty else { return nil }
        let status = try? ChildProcess.run(git, ["status", "--porcelain", "--untracked-files=no"], timeout: 10)
        let dirty = status.map { $0.exitStatus == 0 && !$0.stdout.isEmpty } ?? false
        return commit + (dirty ? "-dirty" : "")
    }
}

extension HyperparameterSet {
    /// Every value as (component, name, text), for the experiment database.
    public func resolved(_ component: String) -> [(component: String, name: String, value: String)] {
        zip(schema, values).map { (component, $0.id, $1.description) }
    }
}

extension Trainer {
    /// Every hyperparameter of every plugin of the run, defaults included: each optimizer group
    /// ("optimizer" for the default group, the group or route name otherwise), the normalizer and
    /// the pruner.
    public var resolvedHyperparameters: [(component: String, name: String, value: String)] {
        var out = optimizers.flatMap { $0.hyperparameters.resolved($0.groupName == "default" ? "optimizer" : $0.groupName) }
        if let layer = model.descendants.compactMap({ $0 as? PluginNormalization }).first { out += layer.session.hyperparameters.resolved("normalizer") }
        if let pruning { out += pruning.hyperparameters.resolved("pruner") }
        return out
    }
}
