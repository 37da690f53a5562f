import CGradusABI
import Foundation
import GradusCore

/// Where the host's log and plugin log lines go. Replaceable (tests capture it).
public final class HostLog: @unchecked Sendable {
    public static let shared = HostLog()
    private let lock = NSLock()
    private var sink: (String) -> Void = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
    /// Lowest level written (GRADUS_LOG_*).
    public var minimumLevel: Int32 = GRADUS_LOG_INFO

    public func setSink(_ sink: @escaping (String) -> Void) { lock.withLock { self.sink = sink } }
    public func write(_ line: String) { lock.withLock { sink(line) } }
}
