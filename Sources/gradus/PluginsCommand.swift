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

/// `gradus plugins check PATH|ID`: the metamorphic kit on one plugin file or strategy.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the plugin test kit (no-op on zero gradient, lr = 0, determinism, save/load, finite differences...) on a plugin.")
    @OptionGroup var plugins: PluginOptions
    @Argument(help: "A plugin file (every strategy in it is checked) or a strategy id.") var target: String

    func run() throws {
        try reportingErrors {
            let strategies: [StrategyDescriptor]
            if FileManager.default.fileExists(atPath: target) {
                strategies = try PluginLoader.load(target, checkPermissions: !plugins.allowInsecure).strategies
            } else {
                let registry = plugins.registry()
                guard let s = registry.strategy(target) else {
                    throw GradusError("'\(target)' is neither a file nor a known plugin id (available: \(registry.strategies.map(\.id).joined(separator: ", ")))")
                }
                strategies = [s]
            }
            var failures = 0
            for s in strategies {
                for r in PluginCheck.run(s) {
                    let mark = r.passed.map { $0 ? "PASS" : "FAIL" } ?? "SKIP"
                    if r.passed == false { failures += 1 }
                    print("\(mark)  \(s.id): \(r.name) — \(r.detail)")
                }
            }
            if failures > 0 { throw GradusError("\(failures) check(s) failed") }
        }
    }
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
            fields += [("min", h.minReal.isFinite ? "\(h.minReal)" : "null"), ("max", h.maxReal.isFinite ? "\(h.maxReal)" : "null")]
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
        case .real(let d): return d.isFinite ? "\(d)" : "null"
        case .integer(let i): return "\(i)"
        case .flag(let b): return b ? "true" : "false"
        case .choice(_, let name): return JSONText.string(name)
        case .text(let s): return JSONText.string(s)
        }
    }
}

/// Minimal JSON writing with keys kept in the order given.
enum JSONText {
    static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }
    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }
}
