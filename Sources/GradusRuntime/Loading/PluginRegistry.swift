import Foundation

/// Where to look for plugins, in precedence order (docs/ARCHITECTURE.md, `Loading/`).
public struct PluginSearch {
    /// Plugin files named explicitly.
    public var files: [String] = []
    /// `--plugin-path` entries: folders (or files), in order.
    public var paths: [String] = []
    /// `GRADUS_PLUGIN_PATH`: a colon-separated list of folders (or files).
    public var environmentPath: String? = ProcessInfo.processInfo.environment["GRADUS_PLUGIN_PATH"]
    /// The built-in folders; by default the ones next to the running binary.
    public var builtinFolders: [BuiltinFolder] = PluginSearch.defaultBuiltinFolders()
    /// Skip the ownership and mode checks (`--allow-insecure-plugins` / `GRADUS_ALLOW_INSECURE_PLUGINS=1`).
    public var allowInsecure: Bool = ProcessInfo.processInfo.environment["GRADUS_ALLOW_INSECURE_PLUGINS"] == "1"

    /// A folder of built-in plugins; `prefix` limits which files count (the build folder holds other libraries).
    public struct BuiltinFolder {
        public var path: String
        public var prefix: String
        public init(path: String, prefix: String = "") { self.path = path; self.prefix = prefix }
    }

    public init() {}

    /// `<bin>/../lib/gradus/plugins` (an installed layout), then the binary's own folder, where
    /// `swift build` puts the `libGradusPlugin*.so` products next to `gradus`.
    public static func defaultBuiltinFolders() -> [BuiltinFolder] {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let bin = (exe as NSString).deletingLastPathComponent
        return [
            BuiltinFolder(path: ((bin as NSString).appendingPathComponent("../lib/gradus/plugins") as NSString).standardizingPath),
            BuiltinFolder(path: bin, prefix: "libGradusPlugin"),
        ]
    }
}

/// All strategies found, keyed by id, with the warnings produced on the way.
public final class PluginRegistry {
    public private(set) var strategies: [StrategyDescriptor] = []
    public private(set) var libraries: [LoadedLibrary] = []
    /// One line per rejected file or skipped duplicate: "<file>: <reason>".
    public private(set) var warnings: [String] = []
    private var byID: [String: Int] = [:]
    private var seenFiles: Set<String> = []

    /// Discovers and loads everything `search` names. Each problem becomes one warning,
    /// passed to `warn` as it happens; loading carries on with the rest.
    public init(search: PluginSearch = PluginSearch(), warn: (String) -> Void = { _ in }) {
        let check = !search.allowInsecure
        func add(_ line: String) { warnings.append(line); warn(line) }
        for file in search.files { loadFile(file, check: check, add) }
        let env = (search.environmentPath ?? "").split(separator: ":").map(String.init)
        for entry in search.paths + env where !entry.isEmpty { loadEntry(entry, prefix: "", check: check, explicit: true, add) }
        for folder in search.builtinFolders { loadEntry(folder.path, prefix: folder.prefix, check: check, explicit: false, add) }
    }

    /// A folder is scanned for `*.so` files (sorted by name); a file is loaded as is.
    private func loadEntry(_ path: String, prefix: String, check: Bool, explicit: Bool, _ add: (String) -> Void) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            if explicit { add("\(path): no such file or folder") }
            return
        }
        guard isDir.boolValue else { loadFile(path, check: check, add); return }
        if check {
            do { try PluginSecurity.check(path, isDirectory: true) } catch { add("\(path): \(error)"); return }
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
        for name in names where name.hasPrefix(prefix) && PluginRegistry.isLibraryName(name) {
            loadFile((path as NSString).appendingPathComponent(name), check: check, add)
        }
    }

    /// `*.so` or a versioned `*.so.1.2`.
    public static func isLibraryName(_ name: String) -> Bool {
        if name.hasSuffix(".so") { return true }
        guard let range = name.range(of: ".so.", options: .backwards) else { return false }
        return name[range.upperBound...].allSatisfy { $0.isNumber || $0 == "." }
    }

    private func loadFile(_ file: String, check: Bool, _ add: (String) -> Void) {
        let real = (file as NSString).resolvingSymlinksInPath
        guard seenFiles.insert(real).inserted else { return }
        do {
            let lib = try PluginLoader.load(file, checkPermissions: check)
            libraries.append(lib)
            for s in lib.strategies {
                if let existing = byID[s.id] {
                    add("\(file): strategy '\(s.id)' is already provided by \(strategies[existing].file); skipped")
                    continue
                }
                byID[s.id] = strategies.count
                strategies.append(s)
            }
        } catch {
            add("\(file): \(error)")
        }
    }

    /// The strategy with this id; `adam` also finds `gradus.adam`.
    public func strategy(_ id: String) -> StrategyDescriptor? {
        if let i = byID[id] { return strategies[i] }
        if !id.contains("."), let i = byID["gradus." + id] { return strategies[i] }
        return nil
    }

    /// The strategy with this id and kind, or an error listing the ones of that kind.
    public func require(_ id: String, kind: StrategyKind) throws -> StrategyDescriptor {
        let available = strategies.filter { $0.kind == kind }.map(\.id).sorted().joined(separator: ", ")
        guard let s = strategy(id) else {
            throw GradusError("unknown \(kind.rawValue) '\(id)' (available: \(available.isEmpty ? "none" : available))")
        }
        guard s.kind == kind else {
            throw GradusError("'\(s.id)' is a \(s.kind.rawValue), expected a \(kind.rawValue) (available: \(available))")
        }
        return s
    }
}
