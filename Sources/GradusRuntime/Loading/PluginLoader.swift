import CGradusABI
import Glibc

/// A library the host loaded and negotiated with.
public struct LoadedLibrary {
    public let file: String
    public let name: String
    public let abiMinor: UInt32
    public let strategies: [StrategyDescriptor]
}

/// Opens one plugin file, negotiates ABI 1 with it and validates every descriptor.
/// Never unloads anything (libraries with Swift code must not be dlclose'd).
public enum PluginLoader {
    /// The host's identity in negotiation.
    public static let hostVersion = "0.1.0"

    /// Loads `file`; the error is one line giving the reason (the caller prefixes the file).
    /// `checkPermissions: false` skips the ownership and mode checks.
    public static func load(_ given: String, checkPermissions: Bool = true) throws -> LoadedLibrary {
        // A bare name would make dlopen search the system's library path; it means ./name.
        let file = given.contains("/") ? given : "./" + given
        if checkPermissions { try PluginSecurity.check(file, isDirectory: false) }
        try ELFSymbols.requireExport(GRADUS_ENTRY_V1_SYMBOL, in: file)
        guard let handle = PluginCall.during(file, "dlopen (the library's constructors)", { dlopen(file, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) }) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw GradusError("dlopen failed: \(reason)")
        }
        guard let symbol = dlsym(handle, GRADUS_ENTRY_V1_SYMBOL) else {
            throw GradusError("no '\(GRADUS_ENTRY_V1_SYMBOL)' symbol: not a Gradus plugin, or one built for another ABI major")
        }
        let entry = unsafeBitCast(symbol, to: gradus_entry_v1_fn.self)
        return try negotiate(entry, file: file)
    }

    /// Negotiation and validation for an entry point (also used by tests on in-memory entries).
    public static func negotiate(_ entry: gradus_entry_v1_fn, file: String) throws -> LoadedLibrary {
        var request = gradus_entry_request()
        ABIWrite.header(&request)
        request.abi_major = UInt32(GRADUS_ABI_MAJOR)
        var response = gradus_entry_response()
        ABIWrite.header(&response)
        response.abi_minor = UInt32.max
        let status: Int32 = "gradus".withCString { name in
            hostVersion.withCString { version in
                request.host_name = name
                request.host_version = version
                request.services = HostServices.table
                return PluginCall.during(file, GRADUS_ENTRY_V1_SYMBOL) { entry(&request, &response) }
            }
        }
        let detail = PluginErrorSlot.shared.take().map { ": \($0)" } ?? ""
        guard status == GRADUS_OK else {
            let why = status == GRADUS_ERR_VERSION ? "speaks no ABI version this host offers (1.\(GRADUS_ABI_MINOR))" : "refused to load"
            throw GradusError("plugin \(why) (status \(status))\(detail)")
        }
        guard response.abi_minor <= UInt32(GRADUS_ABI_MINOR) else {
            throw GradusError("plugin answered ABI 1.\(response.abi_minor == .max ? "?" : String(response.abi_minor)), expected 1.0 to 1.\(GRADUS_ABI_MINOR)")
        }
        guard let libraryPointer = response.library else { throw GradusError("plugin answered OK but gave no library descriptor") }
        let lib = try ABIRead.copy(UnsafeRawPointer(libraryPointer), as: gradus_library_descriptor.self, what: "library descriptor")
        let name = try ABIRead.string(lib.name, "library name", limit: 256)
        let count = Int(lib.strategy_count)
        guard count >= 1, count <= DescriptorValidation.maxStrategies else {
            throw GradusError("library '\(name)' lists \(count) strategies, expected 1 to \(DescriptorValidation.maxStrategies)")
        }
        guard let list = lib.strategies else { throw GradusError("library '\(name)' has a NULL strategy list") }
        let abiVersion = "1.\(response.abi_minor)"
        var strategies: [StrategyDescriptor] = []
        for i in 0..<count {
            guard let raw = list[i] else { throw GradusError("library '\(name)' strategy \(i) is NULL") }
            let s = try DescriptorValidation.strategy(raw, index: i, file: file, abiVersion: abiVersion)
            guard !strategies.contains(where: { $0.id == s.id }) else {
                throw GradusError("library '\(name)' lists strategy '\(s.id)' twice")
            }
            strategies.append(s)
        }
        return LoadedLibrary(file: file, name: name, abiMinor: response.abi_minor, strategies: strategies)
    }
}
