import Foundation
import Glibc

/// The experiment database (`runs.sqlite`): every run with its resolved configuration, status
/// and metric rows, in SQLite so that `sqlite3` or pandas can query it. The schema is documented
/// in docs/EXPERIMENTS.md; every write is one transaction, so a killed writer leaves the file
/// consistent (a run it was recording stays `running` and is redone by a resumed comparison).
public final class ExperimentDatabase {
    public static let schemaName = "gradus-experiments-1"
    public let connection: SQLiteConnection
    public var path: String { connection.path }

    /// Opens (or, when `create` allows, creates) the database at `path`. An existing file must be
    /// a Gradus experiment database: anything else is refused untouched.
    public init(path: String, create: Bool = true) throws {
        var st = stat()
        let exists = lstat(path, &st) == 0
        if exists {
            switch st.st_mode & S_IFMT {
            case S_IFLNK: throw GradusError("\(path): is a symbolic link; give the experiment database file itself")
            case S_IFDIR: throw GradusError("\(path): is a folder, expected an experiment database file")
            case S_IFREG: if st.st_size > 0 { try ExperimentDatabase.checkHeader(path) }
            default: throw GradusError("\(path): is not a regular file, expected an experiment database file")
            }
        }
        guard exists || create else { throw GradusError("\(path): no such experiment database") }
        connection = try SQLiteConnection(path: path, create: create)
        // Looking and creating in one write transaction: of two processes creating the same new
        // database, the second waits and then finds the schema.
        let created: Bool = try connection.transaction {
            let tables = try connection.query("SELECT name FROM sqlite_master WHERE type = 'table'").compactMap { $0.first?.string }
            if tables.isEmpty {
                guard create else { throw GradusError("\(path): an empty file, not a Gradus experiment database") }
                try connection.execute(ExperimentDatabase.schema)
                return true
            }
            let schema = tables.contains("gradus_meta")
                ? try connection.query("SELECT value FROM gradus_meta WHERE key = 'schema'").first?.first?.string : nil
            guard schema == ExperimentDatabase.schemaName else {
                throw GradusError("\(path): an SQLite database that is not a Gradus experiment database (schema \(schema.map { "'\($0)'" } ?? "missing"), expected '\(ExperimentDatabase.schemaName)'); choose another file")
            }
            return false
        }
        if created { try connection.execute("PRAGMA journal_mode = WAL") }
        try connection.execute("PRAGMA foreign_keys = ON")
    }

    /// Refuses a file that is not SQLite before SQLite opens it (it would only fail later).
    static func checkHeader(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw GradusError("\(path): cannot read the experiment database") }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 16)) ?? Data()
        guard head == Data("SQLite format 3\0".utf8) else {
            throw GradusError("\(path): not an SQLite database (expected an experiment database written by gradus, or no file)")
        }
    }

    /// Version 1 of the schema (docs/EXPERIMENTS.md describes every column).
    static let schema = """
        CREATE TABLE gradus_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO gradus_meta VALUES ('schema', '\(schemaName)');
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            run_key TEXT NOT NULL UNIQUE,
            task TEXT NOT NULL,
            task_kind TEXT NOT NULL CHECK (task_kind IN ('train', 'trace')),
            optimizer TEXT NOT NULL,
            optimizer_id TEXT,
            phase TEXT NOT NULL CHECK (phase IN ('single', 'tune', 'final')),
            seed INTEGER NOT NULL,
            sweep TEXT,
            arguments TEXT NOT NULL,
            config TEXT,
            plugins TEXT,
            gradus_version TEXT,
            git_commit TEXT,
            status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'finished', 'failed')),
            failure TEXT,
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            wall_seconds REAL,
            steps INTEGER
        );
        CREATE TABLE hyperparameters (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            component TEXT NOT NULL,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run_id, component, name)
        );
        CREATE TABLE metrics (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            step INTEGER NOT NULL,
            epoch INTEGER,
            name TEXT NOT NULL,
            value REAL,
            PRIMARY KEY (run_id, step, name)
        );
        """

    // MARK: Writing

    /// What identifies a run before it starts (a comparison adds these as `pending`).
    public struct PlannedRun: Sendable {
        public var key: String
        public var task: String
        public var taskKind: String
        public var optimizer: String
        public var phase: String
        public var seed: UInt64
        /// The swept hyperparameters' values as a JSON object (nil: not a sweep run).
        public var sweep: String?
        /// The child's command-line arguments (as a JSON array).
        public var arguments: [String]

        public init(key: String, task: String, taskKind: String, optimizer: String, phase: String, seed: UInt64, sweep: String?, arguments: [String]) {
            (self.key, self.task, self.taskKind, self.optimizer, self.phase, self.seed, self.sweep, self.arguments)
                = (key, task, taskKind, optimizer, phase, seed, sweep, arguments)
        }
    }

    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }

    /// Adds a run as `pending` (or returns the id of the run with the same key) and its status.
    @discardableResult
    public func plan(_ run: PlannedRun) throws -> (id: Int64, status: String) {
        try connection.transaction {
            if let row = try connection.query("SELECT id, status FROM runs WHERE run_key = ?", [.text(run.key)]).first {
                return (row[0].int!, row[1].string!)
            }
            try connection.query("""
                INSERT INTO runs (run_key, task, task_kind, optimizer, phase, seed, sweep, arguments, status, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)
                """, [.text(run.key), .text(run.task), .text(run.taskKind), .text(run.optimizer), .text(run.phase),
                      .integer(Int64(bitPattern: run.seed)), run.sweep.map(SQLiteValue.text) ?? .null,
                      .text(JSONText.array(run.arguments.map(JSONText.string))), .text(ExperimentDatabase.now())])
            return (connection.lastInsertedRow, "pending")
        }
    }

    /// Marks a run as started by the process that records it, with what it resolved: the plugin
    /// ids and versions, every configuration key and every hyperparameter (defaults included).
    /// Metric rows of an earlier, interrupted attempt are removed.
    public func start(run id: Int64, optimizerID: String, config: [(String, String)], plugins: [String: String],
                      hyperparameters: [(component: String, name: String, value: String)], gitCommit: String?) throws {
        try connection.transaction {
            let status = try connection.query("SELECT status FROM runs WHERE id = ?", [.integer(id)]).first?.first?.string
            guard let status else { throw GradusError("\(path): no run with id \(id)") }
            guard status == "pending" || status == "running" else {
                throw GradusError("\(path): run \(id) is already \(status); a comparison reruns only pending or interrupted runs")
            }
            try connection.query("DELETE FROM metrics WHERE run_id = ?", [.integer(id)])
            try connection.query("DELETE FROM hyperparameters WHERE run_id = ?", [.integer(id)])
            try connection.query("""
                UPDATE runs SET status = 'running', optimizer_id = ?, config = ?, plugins = ?, gradus_version = ?, git_commit = ?,
                started_at = ?, finished_at = NULL, failure = NULL, wall_seconds = NULL, steps = NULL WHERE id = ?
                """, [.text(optimizerID), .text(JSONText.object(config.map { ($0.0, JSONText.string($0.1)) })),
                      .text(JSONText.object(plugins.sorted { $0.key < $1.key }.map { ($0.key, JSONText.string($0.value)) })),
                      .text(PluginLoader.hostVersion), gitCommit.map(SQLiteValue.text) ?? .null, .text(ExperimentDatabase.now()), .integer(id)])
            for h in hyperparameters {
                try connection.query("INSERT OR REPLACE INTO hyperparameters VALUES (?, ?, ?, ?)", [.integer(id), .text(h.component), .text(h.name), .text(h.value)])
            }
        }
    }

    /// Adds metric rows at one step (one transaction).
    public func record(run id: Int64, step: Int64, epoch: Int?, _ values: [(String, Double)]) throws {
        try record(run: id, rows: [(step, epoch, values)])
    }

    /// Adds several steps' metric rows in one transaction.
    public func record(run id: Int64, rows: [(step: Int64, epoch: Int?, values: [(String, Double)])]) throws {
        try connection.transaction {
            for row in rows {
                for (name, value) in row.values {
                    try connection.query("INSERT OR REPLACE INTO metrics VALUES (?, ?, ?, ?, ?)",
                                         [.integer(id), .integer(row.step), row.epoch.map { .integer(Int64($0)) } ?? .null, .text(name), .real(value)])
                }
            }
        }
    }

    /// Marks a run finished.
    public func finish(run id: Int64, wallSeconds: Double, steps: Int64) throws {
        try connection.transaction {
            try connection.query("UPDATE runs SET status = 'finished', finished_at = ?, wall_seconds = ?, steps = ? WHERE id = ?",
                                 [.text(ExperimentDatabase.now()), .real(wallSeconds), .integer(steps), .integer(id)])
        }
    }

    /// Marks a pending or running run failed with the reason (its metric rows so far are kept);
    /// a run that already ended keeps its status.
    public func fail(run id: Int64, reason: String, wallSeconds: Double?) throws {
        try connection.transaction {
            try connection.query("UPDATE runs SET status = 'failed', failure = ?, finished_at = ?, wall_seconds = ? WHERE id = ? AND status IN ('pending', 'running')",
                                 [.text(reason), .text(ExperimentDatabase.now()), wallSeconds.map(SQLiteValue.real) ?? .null, .integer(id)])
        }
    }

    /// Puts a failed run back to pending (for `--retry-failed`).
    public func reset(run id: Int64) throws {
        try connection.transaction {
            try connection.query("DELETE FROM metrics WHERE run_id = ?", [.integer(id)])
            try connection.query("UPDATE runs SET status = 'pending', failure = NULL, finished_at = NULL, wall_seconds = NULL WHERE id = ?", [.integer(id)])
        }
    }

    public func setMeta(_ key: String, _ value: String) throws {
        try connection.transaction { try connection.query("INSERT OR REPLACE INTO gradus_meta VALUES (?, ?)", [.text(key), .text(value)]) }
    }

    public func meta(_ key: String) throws -> String? {
        try connection.query("SELECT value FROM gradus_meta WHERE key = ?", [.text(key)]).first?.first?.string
    }

    // MARK: Reading

    /// A run as stored.
    public struct StoredRun: Sendable {
        public let id: Int64
        public let key: String
        public let task: String
        public let taskKind: String
        public let optimizer: String
        public let optimizerID: String?
        public let phase: String
        public let seed: UInt64
        public let sweep: String?
        public let status: String
        public let failure: String?
        public let wallSeconds: Double?
        public let steps: Int64?
    }

    public func runs() throws -> [StoredRun] {
        try connection.query("SELECT id, run_key, task, task_kind, optimizer, optimizer_id, phase, seed, sweep, status, failure, wall_seconds, steps FROM runs ORDER BY id").map { r in
            StoredRun(id: r[0].int!, key: r[1].string ?? "", task: r[2].string ?? "", taskKind: r[3].string ?? "", optimizer: r[4].string ?? "",
                      optimizerID: r[5].string, phase: r[6].string ?? "", seed: UInt64(bitPattern: r[7].int ?? 0), sweep: r[8].string,
                      status: r[9].string ?? "", failure: r[10].string, wallSeconds: r[11].double, steps: r[12].int)
        }
    }

    /// A run's metric `name` as (step, epoch, value) in step order.
    public func series(run id: Int64, _ name: String) throws -> [(step: Int64, epoch: Int?, value: Double)] {
        try connection.query("SELECT step, epoch, value FROM metrics WHERE run_id = ? AND name = ? ORDER BY step", [.integer(id), .text(name)]).map {
            ($0[0].int ?? 0, $0[1].int.map(Int.init), $0[2].double ?? .nan)
        }
    }
}
