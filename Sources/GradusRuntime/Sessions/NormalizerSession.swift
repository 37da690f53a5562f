import CGradusABI
import Foundation
import GradusCore
import GradusNN

/// One normalizer plugin instance for one input shape (the batch axis may vary): the host
/// allocates its parameters and buffers and calls its kernel form or builds its graph form.
public final class NormalizerSession {
    public let strategy: StrategyDescriptor
    /// The values the instance was created with.
    public let hyperparameters: HyperparameterSet
    /// The crash reporter's names for the kernel calls (made once).
    private let labels: (forward: UnsafePointer<CChar>, backward: UnsafePointer<CChar>)
    public let inputShape: [Int]
    /// Parameters in declared order (e.g. weight, bias), initialised as declared.
    public let parameters: [HostParameter]
    /// Buffers in declared order (e.g. running statistics).
    public let buffers: [(name: String, tensor: HostTensor)]
    private let vtable: gradus_normalizer_vtable
    private let instance: UnsafeMutableRawPointer

    public init(strategy: StrategyDescriptor, hyperparameters: HyperparameterSet, inputShape: [Int],
                channelAxis: Int = 1, normalizedDims: Int = 1) throws {
        guard case .normalizer(let v) = strategy.vtable else {
            throw GradusError("'\(strategy.id)' is a \(strategy.kind.rawValue), not a normalizer")
        }
        self.strategy = strategy
        self.hyperparameters = hyperparameters
        labels = (PluginCall.label(strategy.id, "forward"), PluginCall.label(strategy.id, "backward"))
        self.inputShape = inputShape
        vtable = v
        var cfg = gradus_norm_config()
        ABIWrite.header(&cfg)
        let dims = inputShape.map { Int64($0) }
        let created = try dims.withUnsafeBufferPointer { d in
            cfg.input_shape = d.baseAddress
            cfg.ndim = Int32(inputShape.count)
            cfg.channel_axis = Int32(channelAxis)
            cfg.normalized_dims = Int32(normalizedDims)
            return try PluginCall.create(strategy.id) { v.create!(strategy.raw, HostServices.table, hyperparameters.pointer, &cfg, $0) }
        }
        instance = created
        var p: UnsafePointer<gradus_norm_tensor_spec>?, pc: UInt32 = 0
        var b: UnsafePointer<gradus_norm_tensor_spec>?, bc: UInt32 = 0
        do {
            try PluginCall.check(strategy.id, "describe") { v.describe!(created, &p, &pc, &b, &bc) }
            parameters = try NormalizerSession.specs(p, pc, strategy.id).map {
                HostParameter(name: $0.name, role: ParameterRole(rawValue: $0.role), shape: $0.shape,
                              values: Array(repeating: Float($0.initial), count: $0.shape.reduce(1, *)))
            }
            buffers = try NormalizerSession.specs(b, bc, strategy.id).map {
                ($0.name, HostTensor(shape: $0.shape, repeating: Float($0.initial)))
            }
        } catch {
            PluginCall.during(strategy.id, "destroy") { v.destroy!(created) }
            throw error
        }
    }

    deinit { PluginCall.during(strategy.id, "destroy") { vtable.destroy!(instance) } }

    static func specs(_ list: UnsafePointer<gradus_norm_tensor_spec>?, _ count: UInt32, _ id: String) throws
        -> [(name: String, role: Int32, shape: [Int], initial: Double)] {
        guard count > 0 else { return [] }
        guard let list, count <= 64 else { throw GradusError("\(id): describe gave \(count) tensors without a valid list") }
        return try (0..<Int(count)).map { i in
            let s = try ABIRead.copy(ABIRead.element(list, i, stride: Int(list.pointee.struct_size)),
                                     as: gradus_norm_tensor_spec.self, what: "\(id) tensor spec \(i)")
            let name = try ABIRead.string(s.name, "\(id) tensor spec \(i) name", limit: 64)
            guard s.ndim >= 0, s.ndim <= GRADUS_MAX_DIMS, s.ndim == 0 || s.shape != nil else {
                throw GradusError("\(id): tensor '\(name)' has rank \(s.ndim) without a shape")
            }
            let shape = (0..<Int(s.ndim)).map { Int(s.shape![$0]) }
            guard shape.allSatisfy({ $0 > 0 }) else { throw GradusError("\(id): tensor '\(name)' has shape \(shape)") }
            return (name, s.role, shape, s.initial_value)
        }
    }

    /// Whether the plugin has a kernel form.
    public var hasKernel: Bool { vtable.forward != nil }
    /// Whether the plugin has a graph form (gradients of every order from the host core).
    public var hasGraph: Bool { vtable.build_graph != nil }

    /// Checks that `shape` matches the configured input, except for the batch axis.
    func checkShape(_ shape: [Int]) throws {
        guard shape.count == inputShape.count, shape.dropFirst() == inputShape.dropFirst(), shape.first ?? 1 >= 1 else {
            throw GradusError("\(strategy.id): input shape \(shape), expected [N] + \(Array(inputShape.dropFirst()))")
        }
    }

    /// y = f(x) through the kernel form, with the session's own parameters.
    public func forward(_ x: HostTensor, train: Bool = true) throws -> HostTensor {
        try forward(x, parameters: parameters.map(\.value), train: train)
    }

    /// y = f(x) through the kernel form with the given parameter values (declared order).
    /// Train mode lets the plugin update the buffers (running statistics).
    public func forward(_ x: HostTensor, parameters values: [HostTensor], train: Bool) throws -> HostTensor {
        guard let forward = vtable.forward else { throw GradusError("\(strategy.id) has no kernel form") }
        try checkShape(x.shape)
        let y = HostTensor(shape: x.shape)
        let params: [UnsafePointer<gradus_tensor_view>?] = values.map { UnsafePointer($0.view) }
        let bufs: [UnsafeMutablePointer<gradus_tensor_view>?] = buffers.map { $0.tensor.view }
        try params.withUnsafeBufferPointer { p in
            try bufs.withUnsafeBufferPointer { b in
                try PluginCall.check(strategy.id, "forward", label: labels.forward) {
                    forward(instance, train ? GRADUS_MODE_TRAIN : GRADUS_MODE_EVAL, x.view, p.baseAddress, b.baseAddress, y.view)
                }
            }
        }
        return y
    }

    /// dx, and the parameter gradients written into each parameter's `grad`.
    public func backward(_ x: HostTensor, dy: HostTensor, train: Bool = true) throws -> HostTensor {
        try backward(x, parameters: parameters.map(\.value), dy: dy, parameterGradients: parameters.map(\.grad), train: train)
    }

    /// dx for the given parameter values; parameter gradients go to `parameterGradients`.
    public func backward(_ x: HostTensor, parameters values: [HostTensor], dy: HostTensor,
                         parameterGradients: [HostTensor], train: Bool) throws -> HostTensor {
        guard let backward = vtable.backward else { throw GradusError("\(strategy.id) has no kernel form") }
        try checkShape(x.shape)
        let dx = HostTensor(shape: x.shape)
        let params: [UnsafePointer<gradus_tensor_view>?] = values.map { UnsafePointer($0.view) }
        let bufs: [UnsafePointer<gradus_tensor_view>?] = buffers.map { UnsafePointer($0.tensor.view) }
        let grads: [UnsafeMutablePointer<gradus_tensor_view>?] = parameterGradients.map { $0.view }
        try params.withUnsafeBufferPointer { p in
            try bufs.withUnsafeBufferPointer { b in
                try grads.withUnsafeBufferPointer { g in
                    try PluginCall.check(strategy.id, "backward", label: labels.backward) {
                        backward(instance, train ? GRADUS_MODE_TRAIN : GRADUS_MODE_EVAL, x.view, p.baseAddress, b.baseAddress,
                                 dy.view, dx.view, g.baseAddress)
                    }
                }
            }
        }
        return dx
    }

    /// y = f(x) through the graph form: the plugin composes host ops on `x` and `parameters`
    /// (declared order), so the result has gradients of every order. Buffers are written
    /// through `assign` only when `updatesBuffers`.
    public func buildGraph(_ x: Variable, parameters values: [Variable], train: Bool, updatesBuffers: Bool) throws -> Variable {
        guard let build = vtable.build_graph else { throw GradusError("\(strategy.id) has no graph form") }
        try checkShape(x.shape)
        let graph = HostGraph(updatesBuffers: updatesBuffers && train)
        let xNode = graph.add(x)
        let paramNodes = values.map { graph.add($0) }
        let bufferNodes = buffers.map { graph.addBuffer($0.tensor.backing, shape: $0.tensor.shape) }
        var out: gradus_node = -1
        try withExtendedLifetime(graph) {
            try PluginCall.check(strategy.id, "build_graph") {
                build(instance, train ? GRADUS_MODE_TRAIN : GRADUS_MODE_EVAL, graph.handle, xNode, paramNodes, bufferNodes, &out)
            }
        }
        guard let y = graph.node(out) else { throw GradusError("\(strategy.id): build_graph returned node \(out), not a node of its graph") }
        guard y.shape == x.shape else { throw GradusError("\(strategy.id): build_graph produced shape \(y.shape) for an input of \(x.shape)") }
        return y
    }
}
