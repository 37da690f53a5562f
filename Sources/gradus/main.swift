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
} catch let exit as ExitCode {
    StandardOutput.flush()
    Gradus.exit(withError: exit)
} catch {
    StandardOutput.flush()
    // Help and --version print as ArgumentParser formats them; a usage error is one line with
    // exit status 1, like every other bad input (`gradus <command> --help` has the details).
    guard Gradus.exitCode(for: error) != .success else { Gradus.exit(withError: error) }
    let message = Gradus.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
    printError("error: \(message) (see --help)")
    Foundation.exit(1)
}
