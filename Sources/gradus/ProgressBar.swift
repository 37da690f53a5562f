import Foundation

/// A one-line progress bar redrawn in place on stdout, only when stdout is a terminal (so
/// JSON Lines piped to a file or another program stay clean).
final class ProgressBar {
    let enabled = isatty(STDOUT_FILENO) == 1
    private var lastDraw = Date.distantPast
    private var visible = false

    /// Redraws (at most ~20 times a second, and always on the last batch).
    func update(epoch: Int, epochs: Int, done: Int, total: Int, loss: Double) {
        guard enabled, done == total || Date().timeIntervalSince(lastDraw) > 0.05 else { return }
        lastDraw = Date()
        FileHandle.standardOutput.write(Data(String(format: "\r\u{1B}[Kepoch %d/%d [%@] %d/%d loss %.4f", epoch, epochs, ProgressBar.bar(done, total), done, total, loss).utf8))
        visible = true
    }

    /// Redraws the run count of a comparison, with the estimated time left when known.
    func update(runs done: Int, of total: Int, eta: Double?) {
        guard enabled else { return }
        let left = eta.map { e in e.isFinite ? String(format: " ETA %d:%02d", Int(e) / 60, Int(e) % 60) : "" } ?? ""
        FileHandle.standardOutput.write(Data(String(format: "\r\u{1B}[Kruns [%@] %d/%d%@", ProgressBar.bar(done, total), done, total, left).utf8))
        visible = true
    }

    /// `done` of `total` as 30 characters of "=" and spaces.
    static func bar(_ done: Int, _ total: Int) -> String {
        let width = 30, filled = total > 0 ? width * min(done, total) / total : width
        return String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
    }

    /// Erases the bar so the next line prints cleanly.
    func clear() {
        guard visible else { return }
        FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8))
        visible = false
    }
}
