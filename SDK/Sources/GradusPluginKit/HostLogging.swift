import CGradusABI

/// How loud a log line is (the host filters by level).
public enum LogLevel: Int32, Sendable {
    case debug = 0, info = 1, warning = 2, error = 3
}

/// Writes one line to the host's log through its services table, tagged with the strategy id.
/// Thread-safe (the host copies the strings).
func hostLog(_ services: UnsafePointer<gradus_host_services>?, _ level: LogLevel, _ id: String, _ message: String) {
    guard let services, let log = services.pointee.log else { return }
    id.withCString { i in message.withCString { m in log(services.pointee.host, level.rawValue, i, m) } }
}
