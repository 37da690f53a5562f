@_exported import CGradusABI
// ParameterRole, shared with the host's models.
@_exported import GradusABITypes
// The C math library (pow, exp, log, ...), which bias-corrected optimizers need, comes with the kit.
@_exported import Glibc

/// One strategy a library provides, as the author declares it.
public enum PluginStrategy: @unchecked Sendable {
    case optimizer(any OptimizerPlugin.Type)
    case normalizer(any NormalizerPlugin.Type)
    case pruner(any PrunerPlugin.Type)
    case function(FunctionPlugin)
}

/// Kit-side record of one strategy, reachable from its C descriptor (stored right after it).
final class StrategyRecord {
    let strategy: PluginStrategy
    let schema: SchemaIndex
    let id: String
    init(_ strategy: PluginStrategy, schema: SchemaIndex, id: String) {
        self.strategy = strategy
        self.schema = schema
        self.id = id
    }
}

/// The entry's arguments (see `gradus/entry.h`).
public typealias EntryRequest = UnsafePointer<gradus_entry_request>
public typealias EntryResponse = UnsafeMutablePointer<gradus_entry_response>

/// The descriptor of a plugin library, built once from Swift declarations, plus the
/// negotiation logic of `gradus_plugin_entry_v1`.
///
/// The whole export, at the end of the plugin's main file (Swift cannot export a C symbol from
/// a library on the plugin's behalf, so these two lines are the least it takes):
/// ```swift
/// @_cdecl("gradus_plugin_entry_v1")
/// public func entry(_ q: EntryRequest?, _ r: EntryResponse?) -> Int32 { GradusLibrary.entry(q, r, name: "my-optimizers", [.optimizer(MyOptimizer.self)]) }
/// ```
/// Immutable once built, so it may be shared between threads.
public final class GradusLibrary: @unchecked Sendable {
    /// The C descriptor; lives as long as the library (plugins are never unloaded).
    public let descriptor: UnsafePointer<gradus_library_descriptor>

    public init(name: String, vendor: String? = nil, strategies: [PluginStrategy]) {
        let pointers = strategies.map { Optional(UnsafePointer(GradusLibrary.makeDescriptor($0))) }
        var lib = gradus_library_descriptor()
        lib.struct_size = abiSize(gradus_library_descriptor.self)
        lib.abi_minor = UInt32(GRADUS_ABI_MINOR)
        lib.name = Permanent.cString(name)
        lib.vendor = Permanent.optionalCString(vendor)
        lib.strategies = UnsafePointer(Permanent.array(pointers))
        lib.strategy_count = UInt32(pointers.count)
        descriptor = UnsafePointer(Permanent.value(lib))
    }

    /// The library this plugin exports, built on the first call from the arguments of that call
    /// (later calls reuse it), then `negotiate`. Building it touches nothing outside the kit.
    public static func entry(_ request: EntryRequest?, _ response: EntryResponse?, name: String, vendor: String? = nil,
                             _ strategies: @autoclosure () -> [PluginStrategy]) -> Int32 {
        built.lock()
        if built.library == nil { built.library = GradusLibrary(name: name, vendor: vendor, strategies: strategies()) }
        let library = built.library!
        built.unlock()
        return library.negotiate(request, response)
    }

    /// The library `entry` built (one per plugin file: each links its own copy of the kit).
    private static let built = Built()

    private final class Built: @unchecked Sendable {
        var library: GradusLibrary?
        var minor: UInt32 = 0
        private let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
            let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
            pthread_mutex_init(m, nil)
            return m
        }()
        func lock() { pthread_mutex_lock(mutex) }
        func unlock() { pthread_mutex_unlock(mutex) }
    }

    /// The minor version the host and this library agreed on in the last negotiation (0 before).
    public internal(set) static var negotiatedMinor: UInt32 {
        get { built.lock(); defer { built.unlock() }; return built.minor }
        set { built.lock(); built.minor = newValue; built.unlock() }
    }

    /// Answers the host's negotiation: speaks `min(host minor, kit minor)` of major 1,
    /// refuses anything else. No side effects.
    public func negotiate(_ request: UnsafePointer<gradus_entry_request>?,
                          _ response: UnsafeMutablePointer<gradus_entry_response>?) -> Int32 {
        guard let request, let response else { return GRADUS_ERR_INVALID_ARGUMENT }
        let minimum = MemoryLayout<gradus_entry_request>.offset(of: \gradus_entry_request.services)!
            + MemoryLayout<UnsafePointer<gradus_host_services>?>.size
        guard Int(request.pointee.struct_size) >= minimum else { return GRADUS_ERR_VERSION }
        guard request.pointee.abi_major == UInt32(GRADUS_ABI_MAJOR) else { return GRADUS_ERR_VERSION }
        guard Int(response.pointee.struct_size) >= MemoryLayout<gradus_entry_response>.size else {
            return GRADUS_ERR_VERSION
        }
        let minor = min(request.pointee.abi_minor, UInt32(GRADUS_ABI_MINOR))
        response.pointee.abi_minor = minor
        response.pointee.library = descriptor
        GradusLibrary.negotiatedMinor = minor
        return GRADUS_OK
    }

    // MARK: descriptor construction

    /// Byte offset of the record pointer stored after each strategy descriptor.
    static let recordOffset = (MemoryLayout<gradus_strategy_descriptor>.size + 7) & ~7

    static func makeDescriptor(_ strategy: PluginStrategy) -> UnsafeMutablePointer<gradus_strategy_descriptor> {
        let info: StrategyInfo
        let schema: [Hyperparameter]
        var c = gradus_strategy_descriptor()
        switch strategy {
        case .optimizer(let type):
            info = type.info; schema = type.hyperparameters
            c.kind = GRADUS_KIND_OPTIMIZER; c.capabilities = type.capabilities.rawValue
            c.vtable = UnsafeRawPointer(OptimizerThunks.vtable)
        case .normalizer(let type):
            info = type.info; schema = type.hyperparameters
            c.kind = GRADUS_KIND_NORMALIZER; c.capabilities = type.capabilities.rawValue
            c.vtable = UnsafeRawPointer(NormalizerThunks.vtable(forms: type.forms))
        case .pruner(let type):
            info = type.info; schema = type.hyperparameters
            c.kind = GRADUS_KIND_PRUNER; c.capabilities = type.capabilities.rawValue
            c.vtable = UnsafeRawPointer(PrunerThunks.vtable)
        case .function(let function):
            info = function.info; schema = []
            c.kind = GRADUS_KIND_FUNCTION
            c.vtable = UnsafeRawPointer(function.makeVTable())
        }
        c.struct_size = abiSize(gradus_strategy_descriptor.self)
        c.abi_minor = UInt32(GRADUS_ABI_MINOR)
        c.id = Permanent.cString(info.id)
        c.display_name = Permanent.cString(info.displayName)
        c.version = Permanent.cString(info.version)
        c.summary = Permanent.cString(info.summary)
        c.reference = Permanent.optionalCString(info.reference)
        c.hyperparameters = UnsafePointer(Permanent.array(schema.map { $0.cDescriptor() }))
        c.hyperparameter_count = UInt32(schema.count)

        let raw = UnsafeMutableRawPointer.allocate(byteCount: recordOffset + 8, alignment: 16)
        let descriptor = raw.bindMemory(to: gradus_strategy_descriptor.self, capacity: 1)
        descriptor.initialize(to: c)
        let record = Unmanaged.passRetained(StrategyRecord(strategy, schema: SchemaIndex(schema), id: info.id))
        raw.advanced(by: recordOffset).storeBytes(of: record.toOpaque(), as: UnsafeMutableRawPointer.self)
        return descriptor
    }

    /// The record stored after a descriptor this kit built.
    static func record(_ descriptor: UnsafePointer<gradus_strategy_descriptor>?) -> StrategyRecord? {
        guard let descriptor else { return nil }
        let opaque = UnsafeRawPointer(descriptor).advanced(by: recordOffset).load(as: UnsafeMutableRawPointer.self)
        return Unmanaged<StrategyRecord>.fromOpaque(opaque).takeUnretainedValue()
    }
}
