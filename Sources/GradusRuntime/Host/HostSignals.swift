import CGradusHost
import Glibc

/// Signal handling of the `gradus` process: SIGINT/SIGTERM become a polled flag (training stops
/// between batches, after writing a checkpoint), and fatal signals print one line naming the
/// plugin call in progress (see `PluginCall`) before the process ends by that signal. The
/// handlers themselves are C (async-signal-safe); a library embedding the runtime installs
/// nothing unless it calls these.
public enum HostSignals {
    /// Installs the fatal-signal reporter (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP).
    public static func installCrashReporter() { gradus_host_install_crash_reporter() }

    /// Installs SIGINT/SIGTERM handlers that record the signal (a second one ends the process).
    public static func installInterruptHandlers() { gradus_host_install_interrupt_handlers() }

    /// The interrupting signal received so far, or 0.
    public static var interruption: Int32 { gradus_host_interrupt_signal() }

    /// Makes the kernel send SIGTERM to this process when its parent ends (a comparison's child
    /// runs never outlive the comparison); false when the parent is already gone.
    public static func terminateWithParent() -> Bool { gradus_host_terminate_with_parent() == 0 }

    /// Text appended to the fatal line, e.g. which checkpoint is the last good one.
    public static func setCrashNote(_ text: String) { gradus_host_set_crash_note(text) }

    /// "SIGINT", "SIGTERM" or "signal N".
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGKILL: return "SIGKILL"
        case SIGSEGV: return "SIGSEGV"
        case SIGABRT: return "SIGABRT"
        case SIGBUS: return "SIGBUS"
        case SIGILL: return "SIGILL"
        case SIGFPE: return "SIGFPE"
        case SIGTRAP: return "SIGTRAP"
        default: return "signal \(signal)"
        }
    }
}
