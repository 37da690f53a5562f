import CSQLite
import Foundation

/// A value bound to or read from an SQLite statement.
public enum SQLiteValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    public var int: Int64? { if case .integer(let v) = self { return v }; return nil }
    public var double: Double? {
        switch self {
        case .integer(let v): return Double(v)
        case .real(let v): return v
        default: return nil
        }
    }
    public var string: String? { if case .text(let v) = self { return v }; return nil }
}

/// One connection to an SQLite file through SQLite's C API (Debian's libsqlite3). Several
/// processes may write the same file: the journal is in WAL mode and a writer waits up to
/// `busyTimeout` for another's transaction to end. Not shared between threads without a lock.
public final class SQLiteConnection {
    public let path: String
    private var handle: OpaquePointer?

    /// How long a statement waits for another process's write lock, in milliseconds.
    static let busyTimeout: Int32 = 120_000

    /// Opens `path`, creating the file when `create` is true.
    public init(path: String, create: Bool) throws {
        self.path = path
        let flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close(handle)
            handle = nil
            throw GradusError("\(path): cannot open the experiment database: \(message)")
        }
        sqlite3_busy_timeout(handle, SQLiteConnection.busyTimeout)
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit { sqlite3_close_v2(handle) }

    private func failure(_ what: String) -> GradusError {
        GradusError("\(path): \(what): \(String(cString: sqlite3_errmsg(handle)))")
    }

    /// Runs one or more statements without parameters.
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &message) == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw GradusError("\(path): \(text)")
        }
    }

    /// Runs one statement with `values` bound to its `?` parameters and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ values: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK else { throw failure("cannot prepare '\(sql)'") }
        defer { sqlite3_finalize(statement) }
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(statement, index)
            case .integer(let v): code = sqlite3_bind_int64(statement, index, v)
            case .real(let v): code = v.isFinite ? sqlite3_bind_double(statement, index, v) : sqlite3_bind_null(statement, index)
            case .text(let v): code = sqlite3_bind_text(statement, index, v, -1, SQLiteConnection.transient)
            }
            guard code == SQLITE_OK else { throw failure("cannot bind parameter \(index)") }
        }
        var rows: [[SQLiteValue]] = []
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else { throw failure("'\(sql.prefix(60))' failed") }
            rows.append((0..<sqlite3_column_count(statement)).map { c in
                switch sqlite3_column_type(statement, c) {
                case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, c))
                case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, c))
                case SQLITE_NULL: return .null
                default: return .text(sqlite3_column_text(statement, c).map { String(cString: $0) } ?? "")
                }
            })
        }
        return rows
    }

    /// Runs `body` in one write transaction (BEGIN IMMEDIATE takes the write lock first, so two
    /// processes never deadlock upgrading read locks); rolled back if it throws.
    @discardableResult
    public func transaction<R>(_ body: () throws -> R) throws -> R {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    public var lastInsertedRow: Int64 { sqlite3_last_insert_rowid(handle) }

    /// SQLITE_TRANSIENT: SQLite copies bound text before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
