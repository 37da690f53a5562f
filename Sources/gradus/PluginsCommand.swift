import ArgumentParser
import Foundation
import GradusRuntime

/// `gradus plugins list|info`.
struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and inspect the plugins Gradus finds.",
        subcommands: [List.self, Info.self, Check.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every strategy found, with its kind, version, ABI version and file.")
        @OptionGroup var plugins: PluginOptions
        @Flag(help: "One JSON array instead of a table.") var json = false

        func run() throws {
            let registry = plugins.registry()
            if json {
                print(JSONText.array(registry.strategies.map(PluginJSON.summary)))
                return
            }
            let rows = registry.strategies.map { [$0.id, $0.kind.rawValue, $0.version, "abi \($0.abiVersion)", $0.file] }
            let header = ["ID", "KIND", "VERSION", "ABI", "FILE"]
            let widths = (0..<header.count).map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
            for row in [header] + rows {
                print(row.enumerated().map { c, cell in c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                    .joined(separator: "  "))
            }
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one strategy: schema, capabilities, file and ABI version.")
        @OptionGroup var plugins: PluginOptions
        @Argument(help: "The strategy id, e.g. gradus.adam (or adam).") var id: String
        @Flag(help: "JSON instead of text.") var json = false

        func run() throws {
            try reportingErrors {
                let registry = plugins.registry()
                guard let s = registry.strategy(id) else {
                    throw GradusError("unknown plugin '\(id)' (available: \(registry.strategies.map(\.id).joined(separator: ", ")))")
                }
                if json { print(PluginJSON.detail(s)); return }
                print("\(s.id) — \(s.displayName) \(s.version)")
                print("  kind:         \(s.kind.rawValue)")
                print("  summary:      \(s.summary)")
                if let r = s.reference { print("  reference:    \(r)") }
                print("  file:         \(s.file)")
                print("  abi:          \(s.abiVersion)")
                print("  capabilities: \(s.capabilityNames.isEmpty ? "none" : s.capabilityNames.joined(separator: ", "))")
                if case let .function(signature, _, _) = s.vtable { print("  signature:    \(signature)") }
                if !s.hyperparameters.isEmpty {
                    print("  hyperparameters:")
                    for h in s.hyperparameters {
                        let flags = h.flagNames.isEmpty ? "" : " [\(h.flagNames.joined(separator: ", "))]"
                        print("    \(h.id) (\(h.type.rawValue), default \(h.defaultValue), \(h.rangeText))\(flags): \(h.doc)")
                    }
                }
            }
        }
    }
}

/// `gradus plugins check PATH|ID`: the metamorphic kit on one plugin file or strategy. Each
/// check runs in a child process (this program again, with `--run-one`) under a time limit, so
/// a plugin that crashes or hangs fails that check with the signal or the timeout named, and the
/// remaining checks, the summary and the exit status still come.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the plugin test kit (no-op on zero gradient, lr = 0, determinism, save/load, finite differences...) on a plugin; each check in a child process with a time limit.")
    @OptionGroup var plugins: PluginOptions
    @Argument(help: "A plugin file (every strategy in it is checked) or a strategy id.") var target: String
    @Option(parsing: .unconditional, help: "Seconds each check may run before it is stopped and counted as failed.") var timeout: Double = 60
    @Option(name: .customLong("run-one"), help: .hidden) var runOne: String?
    @Flag(name: .customLong("list-checks"), help: .hidden) var listChecks = false

    func strategies() throws -> [StrategyDescriptor] {
        if FileManager.default.fileExists(atPath: target) {
            do {
                return try PluginLoader.load(target, checkPermissions: !plugins.allowInsecure).strategies
            } catch let error as GradusError {
                throw GradusError("\(target): \(error.message)")
            }
        }
        if target.contains("/") || PluginRegistry.isLibraryName(target) {
            throw GradusError("\(target): no such plugin file")
        }
        let registry = plugins.registry()
        guard let s = registry.strategy(target) else {
            throw GradusError("'\(target)' is neither a file nor a known plugin id (available: \(registry.strategies.map(\.id).joined(separator: ", ")))")
        }
        return [s]
    }

    func run() throws {
        try reportingErrors {
            guard timeout > 0, timeout <= 86_400 else { throw GradusError("--timeout \(timeout): expected seconds in (0, 86400]") }
            if let runOne { return try runInThisProcess(runOne) }
            if listChecks {
                for s in try strategies() {
                    for (index, check) in PluginCheck.checks(for: s).enumerated() { StandardOutput.line("check\t\(s.id)\t\(index)\t\(check.name)") }
                }
                return
            }
            // Loading runs the library's code too (constructors, the entry), so this process never
            // loads the plugin: a child lists the checks, and another child runs each one.
            var failures = 0, total = 0
            for (id, index, name) in try listedChecks() {
                let r = isolated(id, index, name)
                total += 1
                let mark = r.passed.map { $0 ? "PASS" : "FAIL" } ?? "SKIP"
                if r.passed == false { failures += 1 }
                StandardOutput.line("\(mark)  \(id): \(r.name) — \(r.detail)")
            }
            if failures > 0 { throw GradusError("\(failures) of \(total) check(s) failed") }
            StandardOutput.line("all \(total) checks passed or skipped")
        }
    }

    /// The (strategy, index, name) of every check, from a child process that loads the plugin.
    func listedChecks() throws -> [(String, Int, String)] {
        let outcome = try ChildProcess.run(ChildProcess.currentExecutable, Array(CommandLine.arguments.dropFirst()) + ["--list-checks"],
                                           timeout: timeout)
        let stderrLines = outcome.stderr.split(separator: "\n").map(String.init)
        for line in stderrLines where line.hasPrefix("gradus: warning: ") { printError(String(line.dropFirst("gradus: ".count))) }
        if let fault = fault(outcome) {
            StandardOutput.line("FAIL  \(target): loading — \(fault)")
            throw GradusError("1 of 1 check(s) failed")
        }
        guard outcome.exitStatus == 0 else {
            let last = stderrLines.last { $0.hasPrefix("gradus: error: ") }.map { String($0.dropFirst("gradus: error: ".count)) }
            throw GradusError(last ?? "\(target): listing the checks failed with status \(outcome.exitStatus.map(String.init) ?? "?")")
        }
        return outcome.stdout.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            guard f.count == 4, f[0] == "check", let index = Int(f[2]) else { return nil }
            return (f[1], index, f[3])
        }
    }

    /// "timed out after 60 s (stopped with SIGKILL)" or "crashed: SIGABRT in step" when the child
    /// did not end by itself; nil when it exited.
    func fault(_ outcome: ChildProcess.Outcome) -> String? {
        switch outcome.ending {
        case .timedOut: return "timed out after \(Self.seconds(timeout)) s (stopped with SIGKILL)"
        case .signaled(let signal): return "crashed: \(HostSignals.name(signal))\(Self.call(in: outcome.stderr).map { " in \($0)" } ?? "")"
        case .exited: return nil
        }
    }

    /// The plugin call named in the crash reporter's line ("... in plugin X, call step: ...").
    static func call(in stderr: String) -> String? {
        guard let fatal = stderr.split(separator: "\n").last(where: { $0.hasPrefix("gradus: fatal: ") }),
              let r = fatal.range(of: ", call ") else { return nil }
        return String(fatal[r.upperBound...].prefix { $0 != ":" && $0 != ";" })
    }

    /// Runs check `index` of strategy `id` here and prints its result as one tab-separated line.
    func runInThisProcess(_ spec: String) throws {
        guard let hash = spec.lastIndex(of: "#"), let index = Int(spec[spec.index(after: hash)...]) else {
            throw GradusError("--run-one \(spec): expected ID#INDEX")
        }
        let id = String(spec[..<hash])
        guard let s = try strategies().first(where: { $0.id == id }) else { throw GradusError("--run-one: no strategy '\(id)' in \(target)") }
        let checks = PluginCheck.checks(for: s)
        guard checks.indices.contains(index) else { throw GradusError("--run-one: \(s.id) has \(checks.count) checks, no index \(index)") }
        let r = checks[index].run()
        let passed = r.passed.map { $0 ? "pass" : "fail" } ?? "skip"
        StandardOutput.line("result\t\(passed)\t\(r.detail.replacingOccurrences(of: "\n", with: " "))")
    }

    /// Runs one check in a child process and turns a crash or a timeout into a failure naming it.
    func isolated(_ id: String, _ index: Int, _ name: String) -> PluginCheck.Result {
        let arguments = Array(CommandLine.arguments.dropFirst()) + ["--run-one", "\(id)#\(index)"]
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run(ChildProcess.currentExecutable, arguments, timeout: timeout)
        } catch {
            return .init(name: name, passed: false, detail: "\(error)")
        }
        if let fault = fault(outcome) { return .init(name: name, passed: false, detail: fault) }
        if outcome.exitStatus == 0, let line = outcome.stdout.split(separator: "\n").last(where: { $0.hasPrefix("result\t") }) {
            let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            let passed: Bool? = fields[1] == "pass" ? true : fields[1] == "skip" ? nil : false
            return .init(name: name, passed: passed, detail: fields.count > 2 ? fields[2] : "")
        }
        let last = outcome.stderr.split(separator: "\n").last.map(String.init) ?? "no output"
        return .init(name: name, passed: false,
                     detail: "the check's process exited with status \(outcome.exitStatus.map(String.init) ?? "?"): \(last)")
    }

    static func seconds(_ t: Double) -> String { t == t.rounded() ? String(Int(t)) : String(t) }
}

/// JSON renderings of strategies for `--json`.
enum PluginJSON {
    static func summary(_ s: StrategyDescriptor) -> String {
        JSONText.object([("id", JSONText.string(s.id)), ("kind", JSONText.string(s.kind.rawValue)),
                         ("name", JSONText.string(s.displayName)), ("version", JSONText.string(s.version)),
                         ("abi_version", JSONText.string(s.abiVersion)), ("file", JSONText.string(s.file))])
    }

    static func detail(_ s: StrategyDescriptor) -> String {
        var fields: [(String, String)] = [
            ("id", JSONText.string(s.id)), ("kind", JSONText.string(s.kind.rawValue)), ("name", JSONText.string(s.displayName)),
            ("version", JSONText.string(s.version)), ("summary", JSONText.string(s.summary)),
            ("reference", s.reference.map(JSONText.string) ?? "null"), ("file", JSONText.string(s.file)),
            ("abi_version", JSONText.string(s.abiVersion)),
            ("capabilities", JSONText.array(s.capabilityNames.map(JSONText.string))),
            ("hyperparameters", JSONText.array(s.hyperparameters.map(hyperparameter))),
        ]
        if case let .function(signature, _, _) = s.vtable { fields.append(("signature", JSONText.string(signature.description))) }
        return JSONText.object(fields)
    }

    static func hyperparameter(_ h: HyperparameterSpec) -> String {
        var fields: [(String, String)] = [("id", JSONText.string(h.id)), ("name", JSONText.string(h.name)),
                                          ("type", JSONText.string(h.type.rawValue)), ("default", value(h.defaultValue))]
        switch h.type {
        case .real:
            fields += [("min", JSONText.number(h.minReal)), ("max", JSONText.number(h.maxReal))]
        case .integer:
            fields += [("min", h.minInteger == .min ? "null" : "\(h.minInteger)"), ("max", h.maxInteger == .max ? "null" : "\(h.maxInteger)")]
        case .choice: fields.append(("values", JSONText.array(h.choices.map(JSONText.string))))
        default: break
        }
        fields += [("flags", JSONText.array(h.flagNames.map(JSONText.string))), ("doc", JSONText.string(h.doc))]
        return JSONText.object(fields)
    }

    static func value(_ v: HyperparameterValue) -> String {
        switch v {
        case .real(let d): return JSONText.number(d)
        case .integer(let i): return "\(i)"
        case .flag(let b): return b ? "true" : "false"
        case .choice(_, let name): return JSONText.string(name)
        case .text(let s): return JSONText.string(s)
        }
    }
}

