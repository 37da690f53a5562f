import ArgumentParser
import Foundation
import GradusRuntime

/// `gradus report DIR`: the comparison's report and table again, from its database alone.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write DIR/report.html (one self-contained file: tables and SVG charts) from the comparison in DIR/runs.sqlite, and print the result table.")
    @Argument(help: "A folder written by gradus compare --out.") var directory: String
    @Option(help: "Write the report here instead of DIR/report.html.") var output: String?

    func run() throws {
        try reportingErrors {
            let path = (directory as NSString).appendingPathComponent(Comparison.databaseName)
            var st = stat()
            guard lstat(path, &st) == 0 else {  // lstat: a dangling link is there, and refused below
                throw GradusError("\(directory): no \(Comparison.databaseName) (expected a folder written by gradus compare --out)")
            }
            let destination = output ?? (directory as NSString).appendingPathComponent("report.html")
            try Report.checkDestination(destination)
            let results = try ComparisonResults(database: try ExperimentDatabase(path: path, create: false))
            StandardOutput.line(results.table)
            try Report.write(results, to: destination)
            StandardOutput.line("report: \(destination)")
        }
    }
}
