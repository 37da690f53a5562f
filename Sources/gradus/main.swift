import ArgumentParser
import Foundation
import GradusRuntime

// A closed pipe is reported by write() as EPIPE (StandardOutput stops quietly) instead of killing
// the process; a plugin that crashes is named in one line (HostSignals) instead of a backtrace.
signal(SIGPIPE, SIG_IGN)
HostSignals.installCrashReporter()
do {
    var command = try Gradus.parseAsRoot()
    try command.run()
    StandardOutput.flush()
} catch {
    StandardOutput.flush()
    Gradus.exit(withError: error)
}
