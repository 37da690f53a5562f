import CGradusABI

/// A per-parameter state slot the host allocates, names, checkpoints and masks. Declare each
/// as a static key (`static let expAvg = StateSlot.likeParameter("exp_avg")`), list the ones an
/// instance uses in `stateSlots`, and read them in `update` with `try p[Self.expAvg]`: the kit
/// resolves names to positions once, when the instance is created.
public struct StateSlot: Sendable {
    public enum Shape: Sendable {
        case likeParameter, scalar, exactScalar
        /// A shape chosen per parameter from its shape and role (ABI 1.2).
        case shaped(@Sendable (_ shape: [Int], _ role: ParameterRole) -> [Int])
        var isExact: Bool { if case .exactScalar = self { return true } else { return false } }
        var isShaped: Bool { if case .shaped = self { return true } else { return false } }
    }
    public let name: String
    public let shape: Shape
    public let initialValue: Double
    /// Zeroed where a pruning mask is zero (only for `likeParameter`).
    public let masked: Bool

    /// A slot with the parameter's shape (e.g. a momentum buffer), masked by pruning.
    public static func likeParameter(_ name: String, initialValue: Double = 0, masked: Bool = true) -> StateSlot {
        StateSlot(name: name, shape: .likeParameter, initialValue: initialValue, masked: masked)
    }
    /// One float per parameter (rounds: exact for integers only up to 2^24).
    public static func scalar(_ name: String, initialValue: Double = 0) -> StateSlot {
        StateSlot(name: name, shape: .scalar, initialValue: initialValue, masked: false)
    }
    /// One double per parameter (ABI 1.1), for step counters and other values that must stay
    /// exact; read it with `try p.exact(slot)`.
    public static func exactScalar(_ name: String, initialValue: Double = 0) -> StateSlot {
        StateSlot(name: name, shape: .exactScalar, initialValue: initialValue, masked: false)
    }
    /// A float32 tensor whose shape `shape` gives from the parameter's shape and role (ABI 1.2):
    /// factored moments (`{ s, _ in [s[0]] }`), one value per row, projectors. Return `[0]` where the
    /// slot does not apply to a parameter (it is then empty). Never masked.
    public static func shaped(_ name: String, initialValue: Double = 0,
                              _ shape: @escaping @Sendable (_ shape: [Int], _ role: ParameterRole) -> [Int]) -> StateSlot {
        StateSlot(name: name, shape: .shaped(shape), initialValue: initialValue, masked: false)
    }
}

/// One parameter during a step: its value (updated in place), gradient and state slots.
public struct Parameter {
    let raw: UnsafePointer<gradus_param>
    /// The values; write the update here.
    public let value: UnsafeMutableBufferPointer<Float>
    /// The gradient (read-only by contract).
    public let grad: UnsafeBufferPointer<Float>
    /// The state slots, in the order of `stateSlots`.
    public let slots: [UnsafeMutableBufferPointer<Float>]
    /// The instance's slot names in `slots` order, made once per instance (a handful of short
    /// names: a linear scan of inline strings beats hashing them).
    let slotNames: [String]
    /// Whether each declared slot is an exact (F64) scalar.
    let exactSlots: [Bool]

    /// The buffer of `slot`; an error when this instance did not declare it in `stateSlots`.
    public subscript(_ slot: StateSlot) -> UnsafeMutableBufferPointer<Float> {
        get throws {
            let i = try position(slot)
            guard !exactSlots[i] else { throw PluginError.state("state slot '\(slot.name)' is declared exact: read it with p.exact(_:)") }
            return slots[i]
        }
    }

    /// The value of an exact (F64) scalar slot, writable.
    public func exact(_ slot: StateSlot) throws -> UnsafeMutablePointer<Double> {
        let i = try position(slot)
        guard exactSlots[i], Int(raw.pointee.struct_size) >= MemoryLayout<gradus_param>.size,
              let scalars = raw.pointee.scalars else {
            throw PluginError.state("state slot '\(slot.name)' is not an exact scalar slot of this host (ABI 1.1)")
        }
        return scalars + i
    }

    func position(_ slot: StateSlot) throws -> Int {
        guard let i = slotNames.firstIndex(of: slot.name) else {
            throw PluginError.state("state slot '\(slot.name)' is not among this instance's stateSlots (\(slotNames.joined(separator: ", ")))")
        }
        return i
    }

    /// The parameter's name, e.g. `layers.0.weight`.
    public var name: String { raw.pointee.name.map { String(cString: $0) } ?? "" }
    public var role: ParameterRole { ParameterRole(rawValue: raw.pointee.role) }
    public var count: Int { value.count }
    /// The shape of the parameter.
    public var shape: [Int] { (try? TensorView(raw.pointee.value!))?.shape ?? [value.count] }
}

/// What a step knows besides the parameters.
public struct StepContext {
    let raw: UnsafePointer<gradus_step_context>
    /// 1 on the first update.
    public var step: Int64 { raw.pointee.step }
    /// The group's hyperparameters at this step, schedules applied.
    public let hyperparameters: HyperparameterValues
    /// The batch loss, when the optimizer declared `.needsLoss` and the host has one.
    public var loss: Double? { raw.pointee.has_loss != 0 ? raw.pointee.loss : nil }
    /// The host services table, for everything else (RNG, gemm, HVPs...).
    public var services: UnsafePointer<gradus_host_services>? { raw.pointee.services }
    let strategyID: String

    /// Writes one line to the host's log, tagged with this optimizer's id.
    public func log(_ message: String, level: LogLevel = .info) { hostLog(services, level, strategyID, message) }
}

/// An optimizer written in Swift. Implement `update` for one parameter; the kit
/// does the C plumbing, iterates the group and turns throws into statuses.
public protocol OptimizerPlugin {
    static var info: StrategyInfo { get }
    static var hyperparameters: [Hyperparameter] { get }
    static var capabilities: Capabilities { get }
    /// Check cross-field rules here and throw `PluginError.invalidArgument` when they fail.
    init(_ hyperparameters: HyperparameterValues) throws
    /// The per-parameter state, decided from the hyperparameters given to `init`.
    var stateSlots: [StateSlot] { get }
    /// Called once per step with every parameter of the group, before `update` is called for each:
    /// for quantities over the whole group (a global gradient norm, DoG's distances, D-Adaptation's
    /// sums). The default does nothing.
    mutating func prepare(_ group: [Parameter], _ context: StepContext) throws
    /// Updates one parameter in place.
    mutating func update(_ parameter: Parameter, _ context: StepContext) throws
    /// With `.evalPoint` among the capabilities: writes the point to evaluate at (schedule-free's x)
    /// into `parameter.value`, which holds the training point on entry. The host restores the
    /// training point itself afterwards.
    func evaluationPoint(_ parameter: Parameter, _ context: StepContext) throws
}

extension OptimizerPlugin {
    public static var capabilities: Capabilities { [] }
    public var stateSlots: [StateSlot] { [] }
    public mutating func prepare(_ group: [Parameter], _ context: StepContext) throws {}
    public func evaluationPoint(_ parameter: Parameter, _ context: StepContext) throws {
        throw PluginError.unsupported("this optimizer has no evaluation point other than its parameters")
    }
}

/// An optimizer instance as the host holds it.
final class OptimizerInstance {
    var plugin: any OptimizerPlugin
    let schema: SchemaIndex
    let services: UnsafePointer<gradus_host_services>?
    let slots: UnsafeMutablePointer<gradus_state_slot>
    let slotCount: Int
    let slotNames: [String]
    let exactSlots: [Bool]
    let shapes: [StateSlot.Shape]

    let id: String

    init(_ plugin: any OptimizerPlugin, schema: SchemaIndex, services: UnsafePointer<gradus_host_services>?, id: String) {
        self.plugin = plugin
        self.id = id
        self.schema = schema
        self.services = services
        let declared = plugin.stateSlots
        slotCount = declared.count
        slotNames = declared.map(\.name)
        exactSlots = declared.map { $0.shape.isExact }
        shapes = declared.map(\.shape)
        slots = UnsafeMutablePointer<gradus_state_slot>.allocate(capacity: max(1, declared.count))
        for (i, s) in declared.enumerated() {
            var c = gradus_state_slot()
            c.struct_size = abiSize(gradus_state_slot.self)
            c.abi_minor = UInt32(GRADUS_ABI_MINOR)
            c.name = Permanent.cString(s.name)  // a few bytes per instance, kept for the library's life
            switch s.shape {
            case .likeParameter: c.shape_kind = GRADUS_SLOT_LIKE_PARAM
            case .scalar: c.shape_kind = GRADUS_SLOT_SCALAR
            case .exactScalar: c.shape_kind = GRADUS_SLOT_SCALAR_F64
            case .shaped: c.shape_kind = GRADUS_SLOT_SHAPED
            }
            c.flags = s.masked ? UInt32(GRADUS_SLOT_MASKED) : 0
            c.initial_value = s.initialValue
            (slots + i).initialize(to: c)
        }
    }

    deinit { slots.deallocate() }

    /// The group's parameters as the kit hands them to plugins.
    func parameters(_ group: UnsafePointer<gradus_param_group>) throws -> [Parameter] {
        let g = group.pointee
        guard let params = g.params else { return [] }
        var parameters: [Parameter] = []
        parameters.reserveCapacity(Int(g.count))
        for i in 0..<Int(g.count) {
            let p = abiElement(params, i, stride: params.pointee.struct_size)
            guard let valueView = p.pointee.value, let gradView = p.pointee.grad else {
                throw PluginError.invalidArgument("parameter \(i) has no value or gradient view")
            }
            let value = try TensorView(valueView).elements
            let grad = try TensorView(gradView).elements
            guard grad.count == value.count else {
                throw PluginError.invalidArgument("gradient of parameter \(i) has \(grad.count) elements, expected \(value.count)")
            }
            var slotBuffers: [UnsafeMutableBufferPointer<Float>] = []
            slotBuffers.reserveCapacity(slotCount)
            guard Int(p.pointee.slot_count) == slotCount else {
                throw PluginError.state("parameter \(i) carries \(p.pointee.slot_count) state slots, expected \(slotCount)")
            }
            for s in 0..<slotCount {
                if exactSlots[s] { slotBuffers.append(UnsafeMutableBufferPointer(start: nil, count: 0)); continue }
                guard let view = p.pointee.slots?[s] else { throw PluginError.invalidArgument("state slot \(s) is NULL") }
                slotBuffers.append(try TensorView(view).elements)
            }
            parameters.append(Parameter(raw: p, value: value, grad: UnsafeBufferPointer(grad), slots: slotBuffers, slotNames: slotNames, exactSlots: exactSlots))
        }
        return parameters
    }

    func step(_ ctx: UnsafePointer<gradus_step_context>, _ group: UnsafePointer<gradus_param_group>) throws {
        let context = StepContext(raw: ctx, hyperparameters: HyperparameterValues(ctx.pointee.hyperparameters, schema: schema),
                                  strategyID: id)
        // Empty tensors have nothing to update (and no rows or columns to view).
        let parameters = try parameters(group).filter { $0.count > 0 }
        try plugin.prepare(parameters, context)
        for p in parameters { try plugin.update(p, context) }
    }

    func evaluationPoint(_ ctx: UnsafePointer<gradus_step_context>, _ group: UnsafePointer<gradus_param_group>) throws {
        let context = StepContext(raw: ctx, hyperparameters: HyperparameterValues(ctx.pointee.hyperparameters, schema: schema),
                                  strategyID: id)
        for p in try parameters(group) where p.count > 0 { try plugin.evaluationPoint(p, context) }
    }
}

/// The C vtable shared by every Swift optimizer; it finds the Swift type through the descriptor.
enum OptimizerThunks {
    nonisolated(unsafe) static let vtable: UnsafePointer<gradus_optimizer_vtable> = {
        var v = gradus_optimizer_vtable()
        v.struct_size = abiSize(gradus_optimizer_vtable.self)
        v.abi_minor = UInt32(GRADUS_ABI_MINOR)
        v.create = { strategy, services, hp, out in
            reportingErrors(services) {
                guard let out, let record = GradusLibrary.record(strategy),
                      case .optimizer(let type) = record.strategy else {
                    throw PluginError.invalidArgument("create called with a descriptor this library did not publish")
                }
                let plugin = try type.init(HyperparameterValues(hp, schema: record.schema))
                if plugin.stateSlots.contains(where: { $0.shape.isExact }), GradusLibrary.negotiatedMinor < 1 {
                    throw PluginError.version("exact scalar state slots need a host speaking ABI 1.1; this one negotiated 1.\(GradusLibrary.negotiatedMinor)")
                }
                if type.capabilities.contains(.evalPoint), GradusLibrary.negotiatedMinor < 2 {
                    throw PluginError.version("an evaluation point needs a host speaking ABI 1.2; this one negotiated 1.\(GradusLibrary.negotiatedMinor)")
                }
                if plugin.stateSlots.contains(where: { $0.shape.isShaped }), GradusLibrary.negotiatedMinor < 2 {
                    throw PluginError.version("shaped state slots need a host speaking ABI 1.2; this one negotiated 1.\(GradusLibrary.negotiatedMinor)")
                }
                let instance = OptimizerInstance(plugin, schema: record.schema, services: services, id: record.id)
                out.pointee = Unmanaged.passRetained(instance).toOpaque()
            }
        }
        v.destroy = { instance in
            guard let instance else { return }
            Unmanaged<OptimizerInstance>.fromOpaque(instance).release()
        }
        v.state_layout = { instance, outSlots, outCount in
            guard let instance, let outSlots, let outCount else { return GRADUS_ERR_INVALID_ARGUMENT }
            let box = Unmanaged<OptimizerInstance>.fromOpaque(instance).takeUnretainedValue()
            outSlots.pointee = UnsafePointer(box.slots)
            outCount.pointee = UInt32(box.slotCount)
            return GRADUS_OK
        }
        v.slot_shape = { instance, slot, param, outShape, outRank in
            guard let instance, let param, let outShape, let outRank else { return GRADUS_ERR_INVALID_ARGUMENT }
            let box = Unmanaged<OptimizerInstance>.fromOpaque(instance).takeUnretainedValue()
            return reportingErrors(box.services) {
                guard Int(slot) < box.shapes.count, case .shaped(let rule) = box.shapes[Int(slot)] else {
                    throw PluginError.invalidArgument("slot_shape asked for slot \(slot), which is not a shaped slot")
                }
                guard let view = param.pointee.value else { throw PluginError.invalidArgument("slot_shape: the parameter has no value view") }
                let shape = rule(try TensorView(view).shape, ParameterRole(rawValue: param.pointee.role))
                guard shape.count <= Int(GRADUS_MAX_SLOT_RANK) else {
                    throw PluginError.invalidArgument("slot '\(box.slotNames[Int(slot)])' has rank \(shape.count), at most \(GRADUS_MAX_SLOT_RANK) allowed")
                }
                for (i, d) in shape.enumerated() { outShape[i] = Int64(d) }
                outRank.pointee = UInt32(shape.count)
            }
        }
        v.eval_point = { instance, ctx, group in
            guard let instance, let ctx, let group else { return GRADUS_ERR_INVALID_ARGUMENT }
            let box = Unmanaged<OptimizerInstance>.fromOpaque(instance).takeUnretainedValue()
            return reportingErrors(box.services) { try box.evaluationPoint(ctx, group) }
        }
        v.step = { instance, ctx, group in
            guard let instance, let ctx, let group else { return GRADUS_ERR_INVALID_ARGUMENT }
            let box = Unmanaged<OptimizerInstance>.fromOpaque(instance).takeUnretainedValue()
            return reportingErrors(box.services) { try box.step(ctx, group) }
        }
        return UnsafePointer(Permanent.value(v))
    }()
}
