import CGradusABI
import Glibc

/// Which forms a normalizer implements (at least one).
public struct NormalizerForms: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// forward/backward on raw buffers
    public static let kernel = NormalizerForms(rawValue: 1)
    /// built from host ops through `graph_op`
    public static let graph = NormalizerForms(rawValue: 2)
}

/// The input a normalizer instance is created for.
public struct NormalizerInput: Sendable {
    /// Axis 0 is the batch axis.
    public let shape: [Int]
    public let channelAxis: Int
    /// LayerNorm-style: how many trailing axes form one sample's features.
    public let normalizedDims: Int

    /// The trailing `normalizedDims` axes (LayerNorm-style normalizers' feature shape), or an
    /// invalid-argument error when `normalizedDims` is not in 1...rank.
    public func trailingFeatureShape() throws -> [Int] {
        guard normalizedDims >= 1, normalizedDims <= shape.count else {
            throw PluginError.invalidArgument("normalized_dims=\(normalizedDims) for an input of rank \(shape.count), expected 1...\(shape.count)")
        }
        return Array(shape.suffix(normalizedDims))
    }
}

/// A parameter or buffer a normalizer declares.
public struct NormalizerTensor: Sendable {
    public let name: String
    public let role: ParameterRole
    public let shape: [Int]
    public let initialValue: Double
    public init(_ name: String, role: ParameterRole = .unknown, shape: [Int], initialValue: Double) {
        self.name = name; self.role = role; self.shape = shape; self.initialValue = initialValue
    }
}

/// Train or eval.
public enum NormalizerMode: Int32, Sendable { case train = 0, eval = 1 }

/// A normalizer written in Swift.
public protocol NormalizerPlugin {
    static var info: StrategyInfo { get }
    static var hyperparameters: [Hyperparameter] { get }
    static var capabilities: Capabilities { get }
    static var forms: NormalizerForms { get }
    init(_ hyperparameters: HyperparameterValues, input: NormalizerInput) throws
    var parameters: [NormalizerTensor] { get }
    var buffers: [NormalizerTensor] { get }
    /// Kernel form: y = f(x). Buffers are writable (running statistics).
    mutating func forward(mode: NormalizerMode, x: TensorView, parameters: [TensorView], buffers: [TensorView], y: TensorView) throws
    /// Kernel form: writes dx and the parameter gradients (nil entries are not wanted).
    func backward(mode: NormalizerMode, x: TensorView, parameters: [TensorView], buffers: [TensorView],
                  dy: TensorView, dx: TensorView, parameterGradients: [TensorView?]) throws
    /// Graph form: builds y from host ops.
    func buildGraph(mode: NormalizerMode, graph: GraphBuilder, x: gradus_node, parameters: [gradus_node], buffers: [gradus_node]) throws -> gradus_node
}

extension NormalizerPlugin {
    public static var capabilities: Capabilities { [] }
    public var buffers: [NormalizerTensor] { [] }
    public mutating func forward(mode: NormalizerMode, x: TensorView, parameters: [TensorView], buffers: [TensorView], y: TensorView) throws {
        throw PluginError.unsupported("\(Self.info.id) has no kernel form")
    }
    public func backward(mode: NormalizerMode, x: TensorView, parameters: [TensorView], buffers: [TensorView],
                         dy: TensorView, dx: TensorView, parameterGradients: [TensorView?]) throws {
        throw PluginError.unsupported("\(Self.info.id) has no kernel form")
    }
    public func buildGraph(mode: NormalizerMode, graph: GraphBuilder, x: gradus_node, parameters: [gradus_node], buffers: [gradus_node]) throws -> gradus_node {
        throw PluginError.unsupported("\(Self.info.id) has no graph form")
    }
}

/// An attribute of a host graph op: a number ("value") or text ("axes", "shape").
public enum GraphAttribute {
    case number(Double)
    case text(String)
}

/// Adds host ops to a graph under construction (normalizer graph form); see the op
/// catalogue in gradus/host.h.
public struct GraphBuilder {
    let services: UnsafePointer<gradus_host_services>?
    let graph: gradus_graph_handle?

    /// Adds `op` applied to `inputs`; throws what the host reports.
    public func op(_ name: String, _ inputs: gradus_node..., attributes: [String: GraphAttribute] = [:]) throws -> gradus_node {
        guard let services, let graphOp = services.pointee.graph_op else {
            throw PluginError.unsupported("the host offers no graph ops")
        }
        let keys = attributes.keys.sorted()
        let ids = keys.map { strdup($0)! }
        let texts: [UnsafeMutablePointer<CChar>?] = keys.map { if case .text(let t) = attributes[$0]! { return strdup(t) } else { return nil } }
        defer { ids.forEach { free($0) }; texts.forEach { free($0) } }
        let values = keys.indices.map { i -> gradus_hp_value in
            var v = gradus_hp_value()
            v.struct_size = abiSize(gradus_hp_value.self)
            v.abi_minor = UInt32(GRADUS_ABI_MINOR)
            v.id = UnsafePointer(ids[i])
            switch attributes[keys[i]]! {
            case .number(let x): v.type = GRADUS_HP_F64; v.f64 = x
            case .text: v.type = GRADUS_HP_STRING; v.str = UnsafePointer(texts[i])
            }
            return v
        }
        var out: gradus_node = -1
        let status = values.withUnsafeBufferPointer { vals in
            var list = gradus_hp_values()
            list.struct_size = abiSize(gradus_hp_values.self)
            list.abi_minor = UInt32(GRADUS_ABI_MINOR)
            list.values = vals.baseAddress
            list.count = UInt32(vals.count)
            return inputs.withUnsafeBufferPointer { buf in
                name.withCString { graphOp(graph, $0, buf.baseAddress, UInt32(buf.count), &list, &out) }
            }
        }
        guard status == GRADUS_OK else { throw PluginError.host(status) }
        return out
    }

    /// Reduces `axes` keeping them with size 1 ("mean" or "sum").
    public func reduce(_ op: String, _ x: gradus_node, axes: [Int]) throws -> gradus_node {
        try self.op(op, x, attributes: ["axes": .text(axes.map(String.init).joined(separator: ","))])
    }

    /// Reshapes to `shape`.
    public func reshape(_ x: gradus_node, _ shape: [Int]) throws -> gradus_node {
        try op("reshape", x, attributes: ["shape": .text(shape.map(String.init).joined(separator: ","))])
    }

    /// x·a + b for constants a and b (skipping the identity parts).
    public func affine(_ x: gradus_node, scale a: Double = 1, shift b: Double = 0) throws -> gradus_node {
        let scaled = a == 1 ? x : try op("mul_scalar", x, attributes: ["value": .number(a)])
        return b == 0 ? scaled : try op("add_scalar", scaled, attributes: ["value": .number(b)])
    }
}

final class NormalizerInstance {
    var plugin: any NormalizerPlugin
    let services: UnsafePointer<gradus_host_services>?
    let params: UnsafeMutablePointer<gradus_norm_tensor_spec>
    let paramCount: Int
    let buffers: UnsafeMutablePointer<gradus_norm_tensor_spec>
    let bufferCount: Int

    init(_ plugin: any NormalizerPlugin, services: UnsafePointer<gradus_host_services>?) {
        self.plugin = plugin
        self.services = services
        (params, paramCount) = NormalizerInstance.specs(plugin.parameters)
        (buffers, bufferCount) = NormalizerInstance.specs(plugin.buffers)
    }

    static func specs(_ tensors: [NormalizerTensor]) -> (UnsafeMutablePointer<gradus_norm_tensor_spec>, Int) {
        let specs = tensors.map { t -> gradus_norm_tensor_spec in
            var c = gradus_norm_tensor_spec()
            c.struct_size = abiSize(gradus_norm_tensor_spec.self)
            c.abi_minor = UInt32(GRADUS_ABI_MINOR)
            c.name = Permanent.cString(t.name)
            c.role = t.role.rawValue
            c.ndim = Int32(t.shape.count)
            c.shape = UnsafePointer(Permanent.array(t.shape.map { Int64($0) }))
            c.initial_value = t.initialValue
            return c
        }
        return (Permanent.array(specs), specs.count)
    }

    /// Reads `n` tensor views from a C array of view pointers (any constness).
    static func views(_ list: UnsafeRawPointer?, _ n: Int) throws -> [TensorView] {
        guard n > 0 else { return [] }
        guard let list else { throw PluginError.invalidArgument("tensor list is NULL") }
        return try (0..<n).map { i in
            let raw = list.load(fromByteOffset: i * MemoryLayout<UnsafeRawPointer?>.stride, as: UnsafeRawPointer?.self)
            guard let raw else { throw PluginError.invalidArgument("tensor \(i) is NULL") }
            return try TensorView(raw.assumingMemoryBound(to: gradus_tensor_view.self))
        }
    }
}

enum NormalizerThunks {
    static func vtable(forms: NormalizerForms) -> UnsafePointer<gradus_normalizer_vtable> {
        var v = gradus_normalizer_vtable()
        v.struct_size = abiSize(gradus_normalizer_vtable.self)
        v.abi_minor = UInt32(GRADUS_ABI_MINOR)
        v.create = { strategy, services, hp, cfg, out in
            reportingErrors(services) {
                guard let out, let cfg, let record = GradusLibrary.record(strategy),
                      case .normalizer(let type) = record.strategy else {
                    throw PluginError.invalidArgument("create called with a descriptor this library did not publish")
                }
                let c = cfg.pointee
                let shape = (0..<Int(c.ndim)).map { Int(c.input_shape![$0]) }
                let input = NormalizerInput(shape: shape, channelAxis: Int(c.channel_axis), normalizedDims: Int(c.normalized_dims))
                let plugin = try type.init(HyperparameterValues(hp, schema: record.schema), input: input)
                out.pointee = Unmanaged.passRetained(NormalizerInstance(plugin, services: services)).toOpaque()
            }
        }
        v.destroy = { instance in
            guard let instance else { return }
            Unmanaged<NormalizerInstance>.fromOpaque(instance).release()
        }
        v.describe = { instance, outParams, outParamCount, outBuffers, outBufferCount in
            guard let instance, let outParams, let outParamCount, let outBuffers, let outBufferCount else {
                return GRADUS_ERR_INVALID_ARGUMENT
            }
            let box = Unmanaged<NormalizerInstance>.fromOpaque(instance).takeUnretainedValue()
            outParams.pointee = UnsafePointer(box.params); outParamCount.pointee = UInt32(box.paramCount)
            outBuffers.pointee = UnsafePointer(box.buffers); outBufferCount.pointee = UInt32(box.bufferCount)
            return GRADUS_OK
        }
        if forms.contains(.kernel) {
            v.forward = { instance, mode, x, params, buffers, y in
                guard let instance, let x, let y else { return GRADUS_ERR_INVALID_ARGUMENT }
                let box = Unmanaged<NormalizerInstance>.fromOpaque(instance).takeUnretainedValue()
                return reportingErrors(box.services) {
                    let p = try NormalizerInstance.views(UnsafeRawPointer(params), box.paramCount)
                    let b = try NormalizerInstance.views(UnsafeRawPointer(buffers), box.bufferCount)
                    try box.plugin.forward(mode: NormalizerMode(rawValue: mode) ?? .train, x: TensorView(x),
                                           parameters: p, buffers: b, y: TensorView(y))
                }
            }
            v.backward = { instance, mode, x, params, buffers, dy, dx, dParams in
                guard let instance, let x, let dy, let dx else { return GRADUS_ERR_INVALID_ARGUMENT }
                let box = Unmanaged<NormalizerInstance>.fromOpaque(instance).takeUnretainedValue()
                return reportingErrors(box.services) {
                    let p = try NormalizerInstance.views(UnsafeRawPointer(params), box.paramCount)
                    let b = try NormalizerInstance.views(UnsafeRawPointer(buffers), box.bufferCount)
                    let d: [TensorView?] = try (0..<box.paramCount).map { i in try dParams?[i].map { try TensorView(UnsafePointer($0)) } }
                    try box.plugin.backward(mode: NormalizerMode(rawValue: mode) ?? .train, x: TensorView(x),
                                            parameters: p, buffers: b, dy: TensorView(dy), dx: TensorView(dx),
                                            parameterGradients: d)
                }
            }
        }
        if forms.contains(.graph) {
            v.build_graph = { instance, mode, graph, x, params, buffers, outY in
                guard let instance, let outY else { return GRADUS_ERR_INVALID_ARGUMENT }
                let box = Unmanaged<NormalizerInstance>.fromOpaque(instance).takeUnretainedValue()
                return reportingErrors(box.services) {
                    let p = (0..<box.paramCount).map { params![$0] }
                    let b = (0..<box.bufferCount).map { buffers![$0] }
                    outY.pointee = try box.plugin.buildGraph(mode: NormalizerMode(rawValue: mode) ?? .train,
                                                             graph: GraphBuilder(services: box.services, graph: graph),
                                                             x: x, parameters: p, buffers: b)
                }
            }
        }
        return UnsafePointer(Permanent.value(v))
    }
}
