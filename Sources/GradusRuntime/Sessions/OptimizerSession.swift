import CGradusABI
import Foundation
import GradusCore

/// One optimizer plugin instance driving one parameter group: the host allocates
/// and owns every state slot the plugin declares, builds the C views once, and
/// calls `step` through the vtable.
public final class OptimizerSession {
    public let strategy: StrategyDescriptor
    public let hyperparameters: HyperparameterSet
    public let parameters: [HostParameter]
    /// The declared slots, in layout order.
    public let slots: [StateSlotSpec]
    /// state[p][s]: slot s of parameter p (an empty tensor for exact scalar slots, see `exact`).
    public let state: [[HostTensor]]
    /// exact[p][s]: the value of exact (F64) scalar slot s of parameter p; one entry per slot,
    /// used only at the positions of `.exactScalar` slots. Shared with the plugin's C view.
    public let exact: [UnsafeMutableBufferPointer<Double>]
    /// Optimizer steps taken; the next step is `stepCount + 1`.
    public private(set) var stepCount: Int64 = 0
    public let rng: HostRandomStream

    private let vtable: gradus_optimizer_vtable
    private let instance: UnsafeMutableRawPointer
    private let cParams: UnsafeMutablePointer<gradus_param>
    private let cSlotLists: [UnsafeMutablePointer<UnsafeMutablePointer<gradus_tensor_view>?>]
    private let cNames: [UnsafeMutablePointer<CChar>]
    private let cGroup: UnsafeMutablePointer<gradus_param_group>
    private let cGroupName: UnsafeMutablePointer<CChar>
    /// The parameter group this session steps ("default" unless groups are configured).
    public let groupName: String
    /// The crash reporter's name for this plugin's step (made once).
    private let stepLabel: UnsafePointer<CChar>

    public init(strategy: StrategyDescriptor, hyperparameters: HyperparameterSet, parameters: [HostParameter],
                groupName: String = "default", seed: UInt64 = 0, available: UInt64 = HostCapabilities.traceRun) throws {
        guard case .optimizer(let v) = strategy.vtable else {
            throw GradusError("'\(strategy.id)' is a \(strategy.kind.rawValue), not an optimizer")
        }
        try HostCapabilities.require(strategy, available: available)
        try HostCapabilities.checkMatrixOnly(strategy, parameters)
        self.strategy = strategy
        self.hyperparameters = hyperparameters
        self.parameters = parameters
        stepLabel = PluginCall.label(strategy.id, "step")
        vtable = v
        rng = HostRandomStream(RandomStream(seed: seed, stream: strategy.id + "/" + groupName))
        let created = try PluginCall.create(strategy.id) { v.create!(strategy.raw, HostServices.table, hyperparameters.pointer, $0) }
        instance = created
        let layout: [StateSlotSpec]
        do {
            layout = try OptimizerSession.readLayout(v, created, strategy)
        } catch {
            PluginCall.during(strategy.id, "destroy") { v.destroy!(created) }
            throw error
        }
        slots = layout
        let tensors: [[HostTensor]]
        do {
            let shapes: [[[Int]]] = try parameters.map { p in
                try layout.enumerated().map { i, s in
                    switch s.kind {
                    case .likeParameter: return p.value.shape
                    case .scalar: return []
                    case .exactScalar: return [0]
                    case .shaped: return try OptimizerSession.slotShape(v, created, strategy, slot: i, name: s.name, parameter: p)
                    }
                }
            }
            // All the state together must fit before any of it is allocated (a plugin may keep many copies of each parameter).
            let total = shapes.joined().reduce(0) { $0 + $1.reduce(1, *) }
            let physical = Checked.physicalMemory
            guard total <= physical / 4 else {
                throw GradusError("\(strategy.id): its state for these parameters needs \((total * 4) >> 20) MiB, more than this machine's \(physical >> 20) MiB of memory")
            }
            tensors = zip(shapes, parameters).map { row, _ in zip(row, layout).map { HostTensor(shape: $0, repeating: Float($1.initial)) } }
        } catch {
            PluginCall.during(strategy.id, "destroy") { v.destroy!(created) }
            throw error
        }
        state = tensors
        exact = parameters.map { _ in
            let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, layout.count))
            b.initialize(repeating: 0)
            for (i, s) in layout.enumerated() where s.kind == .exactScalar { b[i] = s.initial }
            return b
        }
        cNames = parameters.map { strdup($0.name)! }
        self.groupName = groupName
        cGroupName = strdup(groupName)!
        cSlotLists = tensors.map { row in
            let list = UnsafeMutablePointer<UnsafeMutablePointer<gradus_tensor_view>?>.allocate(capacity: max(1, row.count))
            for (i, t) in row.enumerated() { list[i] = layout[i].kind == .exactScalar ? nil : t.view }
            return list
        }
        cParams = .allocate(capacity: max(1, parameters.count))
        for (i, p) in parameters.enumerated() {
            var c = gradus_param()
            ABIWrite.header(&c)
            c.name = UnsafePointer(cNames[i])
            c.role = p.role.rawValue
            c.value = p.value.view
            c.grad = UnsafePointer(p.grad.view)
            c.slots = UnsafePointer(cSlotLists[i])
            c.slot_count = UInt32(layout.count)
            c.scalars = exact[i].baseAddress
            (cParams + i).initialize(to: c)
        }
        var g = gradus_param_group()
        ABIWrite.header(&g)
        g.name = UnsafePointer(cGroupName)
        g.params = UnsafePointer(cParams)
        g.count = UInt32(parameters.count)
        cGroup = .allocate(capacity: 1)
        cGroup.initialize(to: g)
    }

    deinit {
        PluginCall.during(strategy.id, "destroy") { vtable.destroy!(instance) }
        cGroup.deallocate()
        cParams.deallocate()
        cSlotLists.forEach { $0.deallocate() }
        cNames.forEach { free($0) }
        exact.forEach { $0.deallocate() }
        free(cGroupName)
    }

    static func readLayout(_ v: gradus_optimizer_vtable, _ instance: UnsafeMutableRawPointer, _ strategy: StrategyDescriptor) throws
        -> [StateSlotSpec] {
        let id = strategy.id
        var list: UnsafePointer<gradus_state_slot>?
        var count: UInt32 = 0
        try PluginCall.check(id, "state_layout") { v.state_layout!(instance, &list, &count) }
        guard count <= 64 else { throw GradusError("\(id): state_layout declares \(count) slots, expected at most 64") }
        guard count == 0 || list != nil else { throw GradusError("\(id): state_layout declares \(count) slots but gives no list") }
        var result: [StateSlotSpec] = []
        for i in 0..<Int(count) {
            let s = try ABIRead.copy(ABIRead.element(list!, i, stride: Int(list!.pointee.struct_size)),
                                     as: gradus_state_slot.self, what: "\(id) state slot \(i)")
            let name = try ABIRead.string(s.name, "\(id) state slot \(i) name", limit: 64)
            guard DescriptorValidation.isValidIdentifier(name), !result.contains(where: { $0.name == name }) else {
                throw GradusError("\(id): state slot '\(name)' is not a valid identifier or is repeated")
            }
            let kind: StateSlotSpec.Kind
            switch s.shape_kind {
            case GRADUS_SLOT_LIKE_PARAM: kind = .likeParameter
            case GRADUS_SLOT_SCALAR: kind = .scalar
            case GRADUS_SLOT_SCALAR_F64 where strategy.abiMinor >= 1: kind = .exactScalar
            case GRADUS_SLOT_SCALAR_F64:
                throw GradusError("\(id): state slot '\(name)' is an exact (F64) scalar, which needs ABI 1.1, but the plugin negotiated \(strategy.abiVersion)")
            case GRADUS_SLOT_SHAPED where strategy.abiMinor >= 2:
                guard v.slot_shape != nil else {
                    throw GradusError("\(id): state slot '\(name)' is shaped by the plugin, but its vtable has no slot_shape")
                }
                kind = .shaped
            case GRADUS_SLOT_SHAPED:
                throw GradusError("\(id): state slot '\(name)' is shaped by the plugin, which needs ABI 1.2, but the plugin negotiated \(strategy.abiVersion)")
            default:
                throw GradusError("\(id): state slot '\(name)' has shape kind \(s.shape_kind), expected 1 (like param), 2 (scalar), 3 (exact scalar) or 4 (shaped)")
            }
            guard s.initial_value.isFinite else { throw GradusError("\(id): state slot '\(name)' has a non-finite initial value") }
            result.append(StateSlotSpec(name: name, kind: kind, masked: kind == .likeParameter && s.flags & UInt32(GRADUS_SLOT_MASKED) != 0,
                                        initial: s.initial_value))
        }
        return result
    }

    /// The shape the plugin gives shaped slot `slot` of parameter `p` (checked: rank, sizes, at most 2^34 elements).
    static func slotShape(_ v: gradus_optimizer_vtable, _ instance: UnsafeMutableRawPointer, _ strategy: StrategyDescriptor,
                          slot: Int, name: String, parameter p: HostParameter) throws -> [Int] {
        let what = "\(strategy.id): slot_shape of state slot '\(name)' for parameter '\(p.name)' \(p.value.shape)"
        var probe = gradus_param()
        ABIWrite.header(&probe)
        let shape: [Int] = try p.name.withCString { cName in
            probe.name = cName
            probe.role = p.role.rawValue
            probe.value = p.value.view
            var dims = [Int64](repeating: -1, count: Int(GRADUS_MAX_SLOT_RANK))
            var rank: UInt32 = .max
            try dims.withUnsafeMutableBufferPointer { out in
                try PluginCall.check(strategy.id, "slot_shape") { v.slot_shape!(instance, UInt32(slot), &probe, out.baseAddress, &rank) }
            }
            guard rank <= UInt32(GRADUS_MAX_SLOT_RANK) else { throw GradusError("\(what): rank \(rank), expected at most \(GRADUS_MAX_SLOT_RANK)") }
            let sizes = dims.prefix(Int(rank))
            // Each slot is bounded here; all of them together against memory by the caller, before allocating.
            guard sizes.allSatisfy({ $0 >= 0 }), Checked.product(sizes.map { Int($0) }, limit: 1 << 34) != nil else {
                throw GradusError("\(what): shape \(Array(sizes)), expected sizes >= 0 and at most 2^34 elements")
            }
            return sizes.map { Int($0) }
        }
        return shape
    }

    /// Runs one optimizer step with the current gradients and hyperparameters.
    public func step(loss: Double? = nil, run: RunContext? = nil) throws {
        var ctx = context(step: stepCount + 1)
        ctx.run = run?.handle
        if let loss { ctx.loss = loss; ctx.has_loss = 1 }
        try withExtendedLifetime(run) {
            try PluginCall.check(strategy.id, "step", label: stepLabel) { vtable.step!(instance, &ctx, UnsafePointer(cGroup)) }
        }
        stepCount += 1
    }

    /// Whether the optimizer evaluates at another point than it trains (GRADUS_CAP_EVAL_POINT).
    public var hasEvalPoint: Bool { strategy.capabilities & UInt64(GRADUS_CAP_EVAL_POINT) != 0 }

    /// Runs `body` with the parameters at the optimizer's evaluation point (schedule-free's x),
    /// then puts the training values back exactly (the host keeps them; the plugin never inverts
    /// its map). Without an evaluation point `body` just runs.
    public func atEvaluationPoint<R>(_ body: () throws -> R) throws -> R {
        guard hasEvalPoint, let evalPoint = vtable.eval_point else { return try body() }
        let training = parameters.map(\.value.values)
        defer { for (p, v) in zip(parameters, training) { p.value.values = v } }
        var ctx = context(step: stepCount)
        try PluginCall.check(strategy.id, "eval_point") { evalPoint(instance, &ctx, UnsafePointer(cGroup)) }
        return try body()
    }

    /// The step context of a call into the plugin: this instance's hyperparameters, services and RNG.
    private func context(step: Int64) -> gradus_step_context {
        var ctx = gradus_step_context()
        ABIWrite.header(&ctx)
        ctx.step = step
        ctx.hyperparameters = hyperparameters.pointer
        ctx.services = HostServices.table
        ctx.rng = rng.handle
        return ctx
    }

    /// Every state slot of every parameter, copied (state[p][s] in `slots` order).
    public func snapshot() -> [[SlotValue]] {
        zip(state, exact).map { row, scalars in
            zip(slots, row).enumerated().map { s, pair in pair.0.kind == .exactScalar ? .exact(scalars[s]) : .floats(pair.1.values) }
        }
    }

    /// Restores a saved position: the step counter and every state slot (values in `snapshot` form).
    /// With the parameters restored by the caller, the next step continues the saved run exactly.
    public func restore(stepCount: Int64, state saved: [[SlotValue]]) throws {
        guard saved.count == state.count, zip(saved, state).allSatisfy({ $0.count == $1.count }) else {
            throw GradusError("\(strategy.id): saved state has \(saved.map(\.count)) slots per parameter, expected \(state.map(\.count))")
        }
        for (p, values) in saved.enumerated() {
            for (s, value) in values.enumerated() {
                switch (slots[s].kind, value) {
                case (.exactScalar, .exact(let d)): exact[p][s] = d
                case (.exactScalar, .floats):
                    throw GradusError("\(strategy.id): saved slot '\(slots[s].name)' holds floats, expected an exact (F64) scalar")
                case (_, .floats(let v)):
                    guard v.count == state[p][s].count else {
                        throw GradusError("\(strategy.id): saved slot '\(slots[s].name)' has \(v.count) values, expected \(state[p][s].count)")
                    }
                    state[p][s].values = v
                case (_, .exact):
                    throw GradusError("\(strategy.id): saved slot '\(slots[s].name)' is an exact scalar, expected \(slots[s].kind == .scalar ? "a float scalar" : "a tensor")")
                }
            }
        }
        self.stepCount = stepCount
    }

    /// Slot `name` of parameter `p`.
    public func slot(_ name: String, of p: Int) -> HostTensor? {
        slots.firstIndex { $0.name == name }.map { state[p][$0] }
    }
}


