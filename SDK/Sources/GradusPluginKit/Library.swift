@_exported import CGradusABI

/// One strategy a library provides, as the author declares it.
public enum PluginStrategy {
    case optimizer(any OptimizerPlugin.Type)
    case normalizer(any NormalizerPlugin.Type)
    case pruner(any PrunerPlugin.Type)
    case function(FunctionPlugin)
}

/// Kit-side record of one strategy, reachable from its C descriptor (stored right after it).
final class StrategyRecord {
    let strategy: PluginStrategy
    let schema: SchemaIndex
    init(_ strategy: PluginStrategy, schema: SchemaIndex) {
        self.strategy = strategy
        self.schema = schema
    }
}

/// The descriptor of a plugin library, built once from Swift declarations, plus the
/// negotiation logic of `gradus_plugin_entry_v1`.
///
/// Usage (the whole export, in the plugin's main file):
/// ```swift
/// let library = GradusLibrary(name: "my-optimizers", strategies: [.optimizer(MyOptimizer.self)])
/// @_cdecl("gradus_plugin_entry_v1")
/// public func entry(_ q: UnsafePointer<gradus_entry_request>?, _ r: UnsafeMutablePointer<gradus_entry_response>?) -> Int32 {
///     library.negotiate(q, r)
/// }
/// ```
public final class GradusLibrary {
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
        response.pointee.abi_minor = min(request.pointee.abi_minor, UInt32(GRADUS_ABI_MINOR))
        response.pointee.library = descriptor
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
        let record = Unmanaged.passRetained(StrategyRecord(strategy, schema: SchemaIndex(schema)))
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
