import CGradusABI
import GradusCore

/// A graph under construction for a normalizer's graph form (`gradus_graph_handle`). The core is
/// define-by-run, so every `graph_op` call computes its result at once, recorded for autodiff;
/// nodes are indices into `nodes`. Lives for one `build_graph` call.
final class HostGraph {
    private(set) var nodes: [Variable] = []
    /// Nodes that are buffers (running statistics): the only targets `assign` may write.
    private var bufferNodes: [Int: TensorStorage] = [:]
    /// Whether `assign` writes (false during service re-evaluations, so they change nothing).
    let updatesBuffers: Bool

    init(updatesBuffers: Bool) { self.updatesBuffers = updatesBuffers }

    var handle: gradus_graph_handle { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }
    static func from(_ h: gradus_graph_handle?) -> HostGraph? {
        h.map { Unmanaged<HostGraph>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }

    func add(_ v: Variable) -> gradus_node {
        nodes.append(v)
        return gradus_node(nodes.count - 1)
    }

    /// Adds a buffer as a constant node that `assign` may target. The node holds a snapshot, so
    /// an `assign` never changes a value that an earlier op (or its pullback) has already read.
    func addBuffer(_ storage: TensorStorage, shape: [Int]) -> gradus_node {
        let node = add(Variable(Tensor(shape: shape, storage: TensorStorage(copying: storage.pointer, count: storage.count))))
        bufferNodes[Int(node)] = storage
        return node
    }

    func node(_ n: gradus_node) -> Variable? { n >= 0 && n < nodes.count ? nodes[Int(n)] : nil }

    /// The op catalogue of `graph_op` (see gradus/host.h).
    static let unary: [String: (Variable) -> Variable] = [
        "neg": { -$0 }, "sqrt": { $0.sqrt() }, "rsqrt": { $0.rsqrt() }, "exp": { $0.exp() }, "log": { $0.log() },
        "tanh": { $0.tanh() }, "sigmoid": { $0.sigmoid() }, "relu": { $0.relu() }, "square": { $0 * $0 },
    ]
    static let binary: [String: (Variable, Variable) -> Variable] = ["add": (+), "sub": (-), "mul": (*), "div": (/)]

    /// Applies `op` to input nodes; throws a message naming the op and what was wrong.
    func apply(_ op: String, _ inputs: [gradus_node], _ attrs: [String: GraphAttr]) throws -> gradus_node {
        let xs = try inputs.enumerated().map { i, n -> Variable in
            guard let v = node(n) else { throw GradusError("graph_op '\(op)': input \(i) is node \(n), not a node of this graph") }
            return v
        }
        func arity(_ k: Int) throws {
            guard xs.count == k else { throw GradusError("graph_op '\(op)': \(xs.count) inputs, expected \(k)") }
        }
        func attr(_ name: String) throws -> GraphAttr {
            guard let a = attrs[name] else { throw GradusError("graph_op '\(op)': missing attribute '\(name)'") }
            return a
        }
        if let f = HostGraph.unary[op] { try arity(1); return add(f(xs[0])) }
        if let f = HostGraph.binary[op] {
            try arity(2)
            guard Tensor.broadcastShape(xs[0].shape, xs[1].shape) != nil else {
                throw GradusError("graph_op '\(op)': shapes \(xs[0].shape) and \(xs[1].shape) do not broadcast")
            }
            return add(f(xs[0], xs[1]))
        }
        switch op {
        case "add_scalar": try arity(1); return add(xs[0] + Float(try attr("value").number(op)))
        case "mul_scalar": try arity(1); return add(xs[0] * Float(try attr("value").number(op)))
        case "sum", "mean":
            try arity(1)
            let shape = xs[0].shape
            let axes = try attr("axes").axes(op, rank: shape.count)
            var kept = shape
            for a in axes { kept[a] = 1 }
            let total = xs[0].sum(to: kept)
            let n = axes.reduce(1) { $0 * shape[$1] }
            if op == "sum" { return add(total) }
            let correction = try attrs["correction"].map { try $0.number(op) } ?? 0
            guard Double(n) - correction > 0 else {
                throw GradusError("graph_op 'mean': \(n) elements per mean with correction \(correction); expected more than \(Int(correction))")
            }
            return add(total * Float(1 / (Double(n) - correction)))
        case "reshape":
            try arity(1)
            let dims = try attr("shape").integers(op)
            guard dims.allSatisfy({ $0 >= 1 }), dims.reduce(1, *) == xs[0].value.count else {
                throw GradusError("graph_op 'reshape': shape \(dims) for \(xs[0].value.count) elements of \(xs[0].shape)")
            }
            return add(xs[0].reshaped(dims))
        case "assign":
            try arity(2)
            guard let target = bufferNodes[Int(inputs[0])] else {
                throw GradusError("graph_op 'assign': input 0 (node \(inputs[0])) is not a buffer")
            }
            guard xs[1].value.count == target.count else {
                throw GradusError("graph_op 'assign': value of shape \(xs[1].shape) for a buffer of \(target.count) elements")
            }
            if updatesBuffers { xs[1].value.copy(to: target.pointer) }
            return inputs[0]
        default:
            throw GradusError("graph_op '\(op)': unknown op (expected one of \(HostGraph.opNames.joined(separator: ", ")))")
        }
    }

    static let opNames = (Array(unary.keys) + Array(binary.keys)).sorted() + ["add_scalar", "mul_scalar", "sum", "mean", "reshape", "assign"]
}

/// One attribute of a graph op, read from a `gradus_hp_value`.
struct GraphAttr {
    let number: Double?
    let text: String?

    init(_ v: gradus_hp_value) {
        switch v.type {
        case GRADUS_HP_F64: number = v.f64; text = nil
        case GRADUS_HP_I64, GRADUS_HP_BOOL: number = Double(v.i64); text = nil
        default: number = nil; text = v.str.map { String(cString: $0) }
        }
    }

    func number(_ op: String) throws -> Double {
        guard let number, number.isFinite else { throw GradusError("graph_op '\(op)': attribute is not a finite number") }
        return number
    }

    /// Comma-separated integers ("1,-1,1,1").
    func integers(_ op: String) throws -> [Int] {
        guard let text, case let parts = text.split(separator: ","), !parts.isEmpty,
              case let values = parts.compactMap({ Int($0.trimmingWhitespace) }), values.count == parts.count else {
            throw GradusError("graph_op '\(op)': attribute '\(text ?? "")' is not a comma-separated list of integers")
        }
        return values
    }

    /// Axes, negative ones counted from the end, each in range and unique.
    func axes(_ op: String, rank: Int) throws -> [Int] {
        let axes = try integers(op).map { $0 < 0 ? $0 + rank : $0 }
        guard axes.allSatisfy({ (0..<rank).contains($0) }), Set(axes).count == axes.count else {
            throw GradusError("graph_op '\(op)': axes '\(text ?? "")' for a tensor of rank \(rank)")
        }
        return axes
    }
}

extension HostGraph {
    /// The `graph_op` service.
    static let service: @convention(c) (gradus_graph_handle?, UnsafePointer<CChar>?, UnsafePointer<gradus_node>?, UInt32,
                                        UnsafePointer<gradus_hp_values>?, UnsafeMutablePointer<gradus_node>?) -> Int32 = {
        handle, op, inputs, count, attrs, out in
        guard let graph = HostGraph.from(handle), let op, let out, count == 0 || inputs != nil, count <= 16 else {
            PluginErrorSlot.shared.set(GRADUS_ERR_INVALID_ARGUMENT, "graph_op: NULL graph, op, inputs or out, or more than 16 inputs")
            return GRADUS_ERR_INVALID_ARGUMENT
        }
        do {
            var named: [String: GraphAttr] = [:]
            if let attrs, let values = attrs.pointee.values {
                for i in 0..<Int(attrs.pointee.count) {
                    let v = try ABIRead.copy(ABIRead.element(values, i, stride: Int(values.pointee.struct_size)),
                                             as: gradus_hp_value.self, what: "graph_op attribute \(i)")
                    guard let id = v.id else { throw GradusError("graph_op: attribute \(i) has no id") }
                    named[String(cString: id)] = GraphAttr(v)
                }
            }
            out.pointee = try graph.apply(String(cString: op), (0..<Int(count)).map { inputs![$0] }, named)
            return GRADUS_OK
        } catch {
            PluginErrorSlot.shared.set(GRADUS_ERR_INVALID_ARGUMENT, "\(error)")
            return GRADUS_ERR_INVALID_ARGUMENT
        }
    }
}
