import Foundation

/// A comparison's results read back from its database: per task and optimizer, the final runs'
/// metrics, spread, time to target and significance against the first optimizer. The table of
/// `gradus compare` and the report are both made from this.
public struct ComparisonResults {
    /// What the comparison was (stored in `gradus_meta` under `comparison`).
    public struct Plan {
        public var tasks: [(name: String, kind: String)] = []
        public var optimizers: [String] = []
        public var seeds = 0
        public var targets: [TargetSpec] = []
        public var sweeps: [String] = []
        /// The runs of this comparison (the database may hold others: earlier settings, single runs).
        public var runKeys: Set<String> = []

        public func target(forKind kind: String) -> TargetSpec? { targets.first { ($0.metric == "f") == (kind == "trace") } }
        public func metric(forKind kind: String) -> String { target(forKind: kind)?.metric ?? (kind == "trace" ? "f" : "test_accuracy") }
    }

    /// One final run's figures.
    public struct RunFigures {
        public let run: ExperimentDatabase.StoredRun
        /// The metric at the end, and its best value over epochs (steps for traces).
        public let final: Double?
        public let best: Double?
        /// The first step at which the target was met, and the training seconds spent until then.
        public let targetStep: Int64?
        public let targetSeconds: Double?
        /// Mean wall time of a training step (training tasks).
        public let stepSeconds: Double?
    }

    /// One (task, optimizer) line.
    public struct Row {
        public let task: String
        public let kind: String
        public let optimizer: String
        public let metric: String
        public let runs: [RunFigures]
        public let failures: [ExperimentDatabase.StoredRun]
        /// Runs not ended yet (pending or running).
        public let unfinished: Int
        /// The swept values the final runs used (JSON), when the comparison tuned.
        public let sweep: String?
        /// Welch's test of the final metric against the first optimizer's (nil for the first).
        public let welch: (t: Double, df: Double, p: Double)?

        /// The chosen swept values as "lr=0.004642, momentum=0.9".
        public var sweepText: String? {
            guard let sweep, let object = try? JSONSerialization.jsonObject(with: Data(sweep.utf8)) as? [String: Any] else { return nil }
            return object.keys.sorted().map { k in
                let text = object[k] as? String ?? ""
                return "\(k)=" + (Double(text).map { String(format: "%.4g", $0) } ?? text)
            }.joined(separator: ", ")
        }

        public var finals: [Double] { runs.compactMap(\.final).filter(\.isFinite) }
        /// Runs that ended (finished or failed): what "reached the target in k of n" counts.
        public var ended: Int { runs.count + failures.count }
        /// "steps (k/n)" to the target, "not reached", or "—" without a target.
        public func targetSteps(_ target: TargetSpec?) -> String {
            guard target != nil else { return "—" }
            let reached = runs.compactMap(\.targetStep)
            return reached.isEmpty ? "not reached" : "\(Int(Statistics.mean(reached.map(Double.init))!.rounded())) (\(reached.count)/\(ended))"
        }
        public var bests: [Double] { runs.compactMap(\.best).filter(\.isFinite) }
    }

    public let plan: Plan
    public let rows: [Row]
    public let database: ExperimentDatabase

    public init(database: ExperimentDatabase) throws {
        self.database = database
        guard let text = try database.meta("comparison"),
              let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw GradusError("\(database.path): holds no comparison (run gradus compare --out with this folder first)")
        }
        var plan = Plan()
        plan.tasks = (object["tasks"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0["kind"] as? String ?? "train") }
        plan.optimizers = object["optimizers"] as? [String] ?? []
        plan.seeds = object["seeds"] as? Int ?? 0
        plan.targets = (object["targets"] as? [String] ?? []).compactMap { try? TargetSpec.parse($0) }
        plan.sweeps = object["sweeps"] as? [String] ?? []
        plan.runKeys = Set(object["run_keys"] as? [String] ?? [])
        self.plan = plan
        let all = try database.runs().filter { plan.runKeys.contains($0.key) }
        var rows: [Row] = []
        for task in plan.tasks {
            let metric = plan.metric(forKind: task.kind)
            let target = plan.target(forKind: task.kind)
            var baseline: [Double]?
            for optimizer in plan.optimizers {
                let runs = all.filter { $0.task == task.name && $0.optimizer == optimizer && $0.phase == "final" }
                let figures = try runs.filter { $0.status == "finished" }.map { try ComparisonResults.figures($0, metric: metric, target: target, database: database) }
                let finals = figures.compactMap(\.final).filter(\.isFinite)
                let welch = baseline.flatMap { Statistics.welch(finals, $0) }
                if baseline == nil { baseline = finals }
                rows.append(Row(task: task.name, kind: task.kind, optimizer: optimizer, metric: metric, runs: figures,
                                failures: runs.filter { $0.status == "failed" }, unfinished: runs.filter { $0.status == "pending" || $0.status == "running" }.count,
                                sweep: runs.first?.sweep, welch: welch))
            }
        }
        self.rows = rows
    }

    static func figures(_ run: ExperimentDatabase.StoredRun, metric: String, target: TargetSpec?, database: ExperimentDatabase) throws -> RunFigures {
        let series = try database.series(run: run.id, metric)
        let higher = TargetSpec.higherIsBetter(metric)
        let values = series.map(\.value).filter(\.isFinite)
        let best = values.isEmpty ? nil : (higher ? values.max() : values.min())
        var targetStep: Int64?, targetSeconds: Double?, stepSeconds: Double?
        if run.taskKind == "train" {
            let seconds = try database.series(run: run.id, "train_seconds")
            var cumulative = 0.0
            var at: [Int64: Double] = [:]
            for s in seconds { cumulative += s.value; at[s.step] = cumulative }
            if let last = seconds.last, last.step > 0 { stepSeconds = cumulative / Double(last.step) }
            if let target, let hit = series.first(where: { $0.value.isFinite && target.isMet($0.value) }) {
                targetStep = hit.step
                targetSeconds = at[hit.step]
            }
        } else if let target, let hit = series.first(where: { $0.value.isFinite && target.isMet($0.value) }) {
            targetStep = hit.step
        }
        return RunFigures(run: run, final: series.last?.value, best: best, targetStep: targetStep, targetSeconds: targetSeconds, stepSeconds: stepSeconds)
    }

    /// One task's table as cells: the header and a row per optimizer (plan order). The text
    /// table and the report's HTML table both show exactly these.
    public func cells(for task: (name: String, kind: String)) -> (header: [String], rows: [[String]]) {
        let rows = self.rows.filter { $0.task == task.name }
        guard let first = rows.first else { return ([], []) }
        let target = plan.target(forKind: task.kind)
        let header = ["optimizer", "final (mean ± sd)", "best", "steps to target", "time to target", "ms/step", "failed", "vs \(first.optimizer)"]
        return (header, rows.map { row in
            let finals = row.finals
            let final = Statistics.mean(finals).map { m in Statistics.standardDeviation(finals).map { ComparisonResults.format(m) + " ± " + ComparisonResults.format($0) } ?? ComparisonResults.format(m) } ?? "—"
            let best = Statistics.mean(row.bests).map(ComparisonResults.format) ?? "—"
            let times = row.runs.compactMap(\.targetSeconds)
            let time = times.isEmpty ? "—" : String(format: "%.2f s", Statistics.mean(times)!)
            let step = Statistics.mean(row.runs.compactMap(\.stepSeconds)).map { String(format: "%.3f", $0 * 1000) } ?? "—"
            let failed = "\(row.failures.count)" + (row.unfinished > 0 ? " (+\(row.unfinished) unfinished)" : "")
            let versus = row.optimizer == first.optimizer ? "baseline" : row.welch.map { w in
                let d = (Statistics.mean(finals) ?? 0) - (Statistics.mean(first.finals) ?? 0)
                return String(format: "%@%@, p=%.3g", d >= 0 ? "+" : "", ComparisonResults.format(d), w.p)
            } ?? (task.kind == "trace" ? "—" : "n/a (needs 2+ runs each)")
            return [row.optimizer + (row.sweepText.map { " (\($0))" } ?? ""), final, best, row.targetSteps(target), time, step, failed, versus]
        })
    }

    /// The title line of a task's table.
    public func caption(for task: (name: String, kind: String)) -> String {
        let metric = plan.metric(forKind: task.kind)
        let seeds = task.kind == "trace" ? "1 run each (deterministic)" : "\(plan.seeds) seeds"
        return "\(task.name) — \(metric), \(seeds)\(plan.target(forKind: task.kind).map { "; target \($0.text)" } ?? "")"
    }

    /// Each failed run of a task: "optimizer, seed k: reason".
    public func failureNotes(for task: (name: String, kind: String)) -> [String] {
        rows.filter { $0.task == task.name }.flatMap { row in
            row.failures.map { "\(row.optimizer), seed \($0.seed): \($0.failure ?? "no reason recorded")" }
        }
    }

    /// The result table: one block per task, one line per optimizer.
    public var table: String {
        var out: [String] = []
        for task in plan.tasks {
            let (header, rows) = cells(for: task)
            guard !rows.isEmpty else { continue }
            out.append(caption(for: task))
            out += ComparisonResults.align([header] + rows)
            out += failureNotes(for: task).map { "  failed: " + $0 }
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    static func format(_ v: Double) -> String {
        guard v.isFinite else { return "\(v)" }
        let a = abs(v)
        return a != 0 && (a < 1e-3 || a >= 1e5) ? String(format: "%.3e", v) : String(format: "%.4f", v)
    }

    /// Left-aligned columns separated by two spaces (column widths in characters).
    static func align(_ lines: [[String]]) -> [String] {
        let widths = (0..<(lines.first?.count ?? 0)).map { c in lines.map { $0[c].count }.max() ?? 0 }
        return lines.map { line in
            line.enumerated().map { c, cell in c == line.count - 1 ? cell : cell + String(repeating: " ", count: widths[c] - cell.count) }
                .joined(separator: "  ")
        }
    }
}
