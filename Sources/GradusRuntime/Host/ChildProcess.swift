import Foundation

/// Runs a program as a child process with a time limit and reports how it ended, so that code
/// which may crash or hang (a stranger's plugin) cannot take the calling process with it.
public enum ChildProcess {
    /// How the child ended.
    public enum Ending: Equatable, Sendable {
        case exited(Int32)
        case signaled(Int32)
        /// Still running at the deadline; it was killed (SIGKILL).
        case timedOut
    }

    public struct Outcome: Sendable {
        public let ending: Ending
        public let stdout: String
        public let stderr: String
        /// The exit status when the child exited by itself; nil when a signal or the limit ended it.
        public var exitStatus: Int32? {
            if case .exited(let status) = ending { return status }
            return nil
        }
    }

    /// Runs `program` with `arguments` (in `directory` when given), waiting at most `timeout` seconds.
    /// With `keepStandardOutput` false the child's stdout goes to /dev/null (a long run's lines are
    /// not held in memory) and `Outcome.stdout` is empty.
    public static func run(_ program: String, _ arguments: [String], timeout: Double,
                           environment: [String: String]? = nil, directory: String? = nil,
                           keepStandardOutput: Bool = true) throws -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = arguments
        if let environment { p.environment = environment }
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = keepStandardOutput ? out : FileHandle.nullDevice
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        let reading = DispatchGroup()
        let buffers = Buffers()
        for (handle, index) in (keepStandardOutput ? [(out.fileHandleForReading, 0)] : []) + [(err.fileHandleForReading, 1)] {
            reading.enter()
            DispatchQueue.global().async {
                let data = handle.readDataToEndOfFile()
                buffers.set(index, data)
                reading.leave()
            }
        }
        do { try p.run() } catch {
            throw GradusError("\(program): cannot start a child process: \(error.localizedDescription)")
        }
        var timedOut = false
        if done.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(p.processIdentifier, SIGKILL)
            done.wait()
        }
        // A grandchild could keep the pipes open; do not wait for it beyond a moment.
        _ = reading.wait(timeout: .now() + 2)
        let ending: Ending = timedOut ? .timedOut
            : p.terminationReason == .uncaughtSignal ? .signaled(p.terminationStatus) : .exited(p.terminationStatus)
        return Outcome(ending: ending, stdout: String(decoding: buffers.get(0), as: UTF8.self),
                       stderr: String(decoding: buffers.get(1), as: UTF8.self))
    }

    /// The running program's own executable (for re-running it as a child).
    public static var currentExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    private final class Buffers: @unchecked Sendable {
        private let lock = NSLock()
        private var data = [Data(), Data()]
        func set(_ i: Int, _ d: Data) { lock.lock(); data[i] = d; lock.unlock() }
        func get(_ i: Int) -> Data { lock.lock(); defer { lock.unlock() }; return data[i] }
    }
}
