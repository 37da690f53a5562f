import CGradusABI
import CGradusHost
import Foundation

/// Every call from the host into plugin code goes through here: a non-zero status becomes an
/// error carrying the plugin's message, and while the call runs the host's crash reporter knows
/// which plugin and entry point are executing, so a plugin that crashes the process is named in
/// one line ("gradus: fatal: SIGSEGV in plugin acme.bad, call step …").
public enum PluginCall {
    /// Runs `body` (a call into plugin `id`'s `function`) with the crash reporter told about it;
    /// nested calls (a plugin calling a host service that calls another plugin) restore the outer one.
    /// Hot paths (a step, a normalizer's forward) pass the `label` they made once with `label(_:_:)`.
    @inline(__always)
    public static func during<T>(_ id: String, _ function: String, label made: UnsafePointer<CChar>? = nil,
                                 _ body: () throws -> T) rethrows -> T {
        let previous = gradus_host_plugin_call()
        gradus_host_set_plugin_call(made ?? label(id, function))
        defer { gradus_host_set_plugin_call(previous) }
        return try body()
    }

    /// Calls `body` as `during` does and turns a non-zero status into an error.
    static func check(_ id: String, _ function: String, label made: UnsafePointer<CChar>? = nil, _ body: () -> Int32) throws {
        _ = PluginErrorSlot.shared.take()
        let status = during(id, function, label: made, body)
        guard status != GRADUS_OK else { return }
        let message = PluginErrorSlot.shared.take() ?? "no message"
        throw GradusError("\(id): \(function) failed (\(statusName(status))): \(message)")
    }

    /// Runs a plugin's create function and returns the instance it made.
    static func create(_ id: String, _ body: (UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Int32) throws -> UnsafeMutableRawPointer {
        var out: UnsafeMutableRawPointer?
        try check(id, "create") { body(&out) }
        guard let created = out else { throw GradusError("\(id): create returned OK but no instance") }
        return created
    }

    static func statusName(_ s: Int32) -> String {
        let names = ["ok", "invalid argument", "out of range", "unsupported", "out of memory", "version",
                     "numeric", "state", "internal", "refused"]
        return (0..<Int32(names.count)).contains(s) ? names[Int(s)] : "status \(s)"
    }

    /// One C string per (plugin, function), made once and kept for the life of the process (the
    /// crash reporter reads it from a signal handler, so it must never be freed or rebuilt).
    private static let labels = Labels()

    private final class Labels: @unchecked Sendable {
        let lock = NSLock()
        var table: [String: UnsafeMutablePointer<CChar>] = [:]
    }

    static func label(_ id: String, _ function: String) -> UnsafePointer<CChar> {
        let key = id + "\u{0}" + function
        labels.lock.lock()
        defer { labels.lock.unlock() }
        if let p = labels.table[key] { return UnsafePointer(p) }
        let p = strdup("plugin \(id), call \(function)")!
        labels.table[key] = p
        return UnsafePointer(p)
    }
}
