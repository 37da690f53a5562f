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
    /// The declared slots: name, shape kind, initial value.
    public let slots: [(name: String, likeParameter: Bool, masked: Bool, initial: Double)]
    /// state[p][s]: slot s of parameter p.
    public let state: [[HostTensor]]
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

    public init(strategy: StrategyDescriptor, hyperparameters: HyperparameterSet, parameters: [HostParameter],
                groupName: String = "default", seed: UInt64 = 0, available: UInt64 = HostCapabilities.traceRun) throws {
        guard case .optimizer(let v) = strategy.vtable else {
            throw GradusError("'\(strategy.id)' is a \(strategy.kind.rawValue), not an optimizer")
        }
        try HostCapabilities.require(strategy, available: available)
        self.strategy = strategy
        self.hyperparameters = hyperparameters
        self.parameters = parameters
        vtable = v
        rng = HostRandomStream(RandomStream(seed: seed, stream: strategy.id + "/" + groupName))
        let created = try PluginCall.create(strategy.id) { v.create!(strategy.raw, HostServices.table, hyperparameters.pointer, $0) }
        instance = created
        let layout: [(name: String, likeParameter: Bool, masked: Bool, initial: Double)]
        do {
            layout = try OptimizerSession.readLayout(v, created, strategy.id)
        } catch {
            PluginCall.during(strategy.id, "destroy") { v.destroy!(created) }
            throw error
        }
        slots = layout
        let tensors = parameters.map { p in
            layout.map { s in HostTensor(shape: s.likeParameter ? p.value.shape : [], repeating: Float(s.initial)) }
        }
        state = tensors
        cNames = parameters.map { strdup($0.name)! }
        self.groupName = groupName
        cGroupName = strdup(groupName)!
        cSlotLists = tensors.map { row in
            let list = UnsafeMutablePointer<UnsafeMutablePointer<gradus_tensor_view>?>.allocate(capacity: max(1, row.count))
            for (i, t) in row.enumerated() { list[i] = t.view }
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
        free(cGroupName)
    }

    static func readLayout(_ v: gradus_optimizer_vtable, _ instance: UnsafeMutableRawPointer, _ id: String) throws
        -> [(name: String, likeParameter: Bool, masked: Bool, initial: Double)] {
        var list: UnsafePointer<gradus_state_slot>?
        var count: UInt32 = 0
        try PluginCall.check(id, "state_layout") { v.state_layout!(instance, &list, &count) }
        guard count <= 64 else { throw GradusError("\(id): state_layout declares \(count) slots, expected at most 64") }
        guard count == 0 || list != nil else { throw GradusError("\(id): state_layout declares \(count) slots but gives no list") }
        var result: [(String, Bool, Bool, Double)] = []
        for i in 0..<Int(count) {
            let s = try ABIRead.copy(ABIRead.element(list!, i, stride: Int(list!.pointee.struct_size)),
                                     as: gradus_state_slot.self, what: "\(id) state slot \(i)")
            let name = try ABIRead.string(s.name, "\(id) state slot \(i) name", limit: 64)
            guard DescriptorValidation.isValidIdentifier(name), !result.contains(where: { $0.0 == name }) else {
                throw GradusError("\(id): state slot '\(name)' is not a valid identifier or is repeated")
            }
            guard s.shape_kind == GRADUS_SLOT_LIKE_PARAM || s.shape_kind == GRADUS_SLOT_SCALAR else {
                throw GradusError("\(id): state slot '\(name)' has shape kind \(s.shape_kind), expected 1 (like param) or 2 (scalar)")
            }
            guard s.initial_value.isFinite else { throw GradusError("\(id): state slot '\(name)' has a non-finite initial value") }
            result.append((name, s.shape_kind == GRADUS_SLOT_LIKE_PARAM, s.flags & UInt32(GRADUS_SLOT_MASKED) != 0, s.initial_value))
        }
        return result.map { (name: $0.0, likeParameter: $0.1, masked: $0.2, initial: $0.3) }
    }

    /// Runs one optimizer step with the current gradients and hyperparameters.
    public func step(loss: Double? = nil, run: RunContext? = nil) throws {
        var ctx = gradus_step_context()
        ABIWrite.header(&ctx)
        ctx.step = stepCount + 1
        ctx.hyperparameters = hyperparameters.pointer
        ctx.services = HostServices.table
        ctx.run = run?.handle
        ctx.rng = rng.handle
        if let loss { ctx.loss = loss; ctx.has_loss = 1 }
        try withExtendedLifetime(run) {
            try PluginCall.check(strategy.id, "step") { vtable.step!(instance, &ctx, UnsafePointer(cGroup)) }
        }
        stepCount += 1
    }

    /// Restores a saved position: the step counter and every state slot (values in `state` order).
    /// With the parameters restored by the caller, the next step continues the saved run exactly.
    public func restore(stepCount: Int64, state saved: [[[Float]]]) throws {
        guard saved.count == state.count, zip(saved, state).allSatisfy({ $0.count == $1.count }) else {
            throw GradusError("\(strategy.id): saved state has \(saved.map(\.count)) slots per parameter, expected \(state.map(\.count))")
        }
        for (row, values) in zip(state, saved) {
            for (tensor, v) in zip(row, values) {
                guard v.count == tensor.count else { throw GradusError("\(strategy.id): saved slot has \(v.count) values, expected \(tensor.count)") }
                tensor.values = v
            }
        }
        self.stepCount = stepCount
    }

    /// Slot `name` of parameter `p`.
    public func slot(_ name: String, of p: Int) -> HostTensor? {
        slots.firstIndex { $0.name == name }.map { state[p][$0] }
    }
}

/// What the host can provide in a given kind of run; strategies needing more are refused up front.
public enum HostCapabilities {
    /// A trace on a test function: gradients, loss, RNG, shapes and roles, gemm.
    public static let traceRun: UInt64 = UInt64(GRADUS_CAP_NEEDS_LOSS | GRADUS_CAP_NEEDS_SHAPES | GRADUS_CAP_NEEDS_ROLES
        | GRADUS_CAP_NEEDS_RNG | GRADUS_CAP_NEEDS_LINALG | GRADUS_CAP_NEEDS_GLOBAL_VIEW
        | GRADUS_CAP_DECOUPLED_WEIGHT_DECAY)

    /// A training run adds Hessian-vector products, same-batch re-evaluation (closures) and
    /// layer activations (forward hooks).
    public static let trainingRun: UInt64 = traceRun | UInt64(GRADUS_CAP_NEEDS_HVP | GRADUS_CAP_NEEDS_CLOSURE | GRADUS_CAP_NEEDS_ACTIVATIONS)

    static let decoupledDecayBit = UInt64(GRADUS_CAP_DECOUPLED_WEIGHT_DECAY)
    static let globalViewBit = UInt64(GRADUS_CAP_NEEDS_GLOBAL_VIEW)

    static func require(_ s: StrategyDescriptor, available: UInt64) throws {
        let missing = s.capabilities & ~available
        guard missing == 0 else {
            throw GradusError("\(s.id) needs \(Capability.names(missing).joined(separator: ", ")), which this run cannot provide")
        }
    }
}
