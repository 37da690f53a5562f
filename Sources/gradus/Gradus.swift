import ArgumentParser
import Foundation
import GradusRuntime

/// The `gradus` command line.
struct Gradus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradus",
        abstract: "Plugin-based optimization for neural networks: optimizers, normalizers and pruners as C-ABI plugins.",
        version: PluginLoader.hostVersion,
        subcommands: [Train.self, Eval.self, Tasks.self, Compare.self, ReportCommand.self, Analyze.self, Plugins.self, Trace.self]
    )
}

/// Options shared by every command that loads plugins.
struct PluginOptions: ParsableArguments {
    @Option(name: .customLong("plugin-path"), help: "A folder (or file) to search for plugins; repeatable. Searched before GRADUS_PLUGIN_PATH and the built-ins.")
    var pluginPaths: [String] = []

    @Option(name: .customLong("plugin"), help: "A plugin file to load first; repeatable.")
    var pluginFiles: [String] = []

    @Flag(name: .customLong("allow-insecure-plugins"), help: "Load plugin files and folders that other users can write to.")
    var allowInsecure = false

    /// Discovers plugins, printing one warning line per rejected file to stderr.
    func registry() -> PluginRegistry {
        var search = PluginSearch()
        search.files = pluginFiles
        search.paths = pluginPaths
        if allowInsecure { search.allowInsecure = true }
        return PluginRegistry(search: search) { line in printError("warning: \(line)") }
    }
}

/// Writes one line to stderr, prefixed with the program name.
func printError(_ line: String) {
    FileHandle.standardError.write(Data("gradus: \(line)\n".utf8))
}

/// Runs `body`, turning a `GradusError` into one line on stderr and exit status 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as GradusError {
        printError("error: \(error.message)")
        throw ExitCode(1)
    }
}

/// Splits `key=value` settings; the error names the malformed one.
func parseSettings(_ raw: [String]) throws -> [(String, String)] {
    try raw.map { item in
        guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
            throw GradusError("--set \(item): expected key=value")
        }
        return (String(item[..<eq]).trimmingCharacters(in: .whitespaces),
                String(item[item.index(after: eq)...]).trimmingCharacters(in: .whitespaces))
    }
}

/// An option's text as an integer in `range`, parsed here rather than by the argument parser so
/// that an overflowing or negative value is one error line naming the option, the value and the
/// range ("--seeds 0: expected an integer in 1...1000"; `flag` ending in "=" reads "--set steps=0").
func integerOption(_ text: String, _ flag: String, _ range: ClosedRange<Int>, _ note: String = "") throws -> Int {
    guard let v = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(v) else {
        throw GradusError("\(flag)\(flag.hasSuffix("=") ? "" : " ")\(text): expected an integer in \(range.lowerBound)...\(range.upperBound)\(note.isEmpty ? "" : " (\(note))")")
    }
    return v
}
