import Foundation
import GradusRuntime

/// Standard output whose failures are not lost: a reader that went away (EPIPE) ends the
/// program quietly with status 0, like `head` expects; any other failure (a full disk,
/// `/dev/full`) is one error line and status 1.
enum StandardOutput {
    /// Prints `text` and a newline, and flushes so that JSON Lines reach a reader as they happen.
    static func line(_ text: String) {
        print(text)
        flush()
    }

    /// Flushes stdout and ends the program if the write failed.
    static func flush() {
        guard fflush(stdout) != 0 || ferror(stdout) != 0 else { return }
        let code = errno
        if code == EPIPE { exit(0) }
        FileHandle.standardError.write(Data("gradus: error: cannot write to standard output: \(String(cString: strerror(code)))\n".utf8))
        exit(1)
    }
}
