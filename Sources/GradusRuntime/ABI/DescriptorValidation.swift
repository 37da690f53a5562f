import CGradusABI

/// Checks every field of a plugin's descriptors before the host uses any of them,
/// and copies what it checked into host memory.
enum DescriptorValidation {
    static let maxStrategies = 1024
    static let maxHyperparameters = 256

    /// Validates one strategy descriptor. The error names the strategy (or its index) and the field.
    static func strategy(_ raw: UnsafePointer<gradus_strategy_descriptor>, index: Int, file: String,
                         abiVersion: String) throws -> StrategyDescriptor {
        let d = try ABIRead.copy(UnsafeRawPointer(raw), as: gradus_strategy_descriptor.self, what: "strategy \(index)")
        let id = try ABIRead.string(d.id, "strategy \(index) id", limit: 128)
        guard isValidStrategyID(id) else {
            throw GradusError("strategy \(index) has id '\(id)', expected 'vendor.name' in lowercase letters, digits, '_', '-' and '.'")
        }
        let what = "strategy '\(id)'"
        guard let kind = StrategyKind(code: d.kind) else {
            throw GradusError("\(what) has kind \(d.kind), expected 1 (optimizer), 2 (normalizer), 3 (pruner) or 4 (function)")
        }
        let displayName = try ABIRead.string(d.display_name, "\(what) display_name", limit: 256)
        let version = try ABIRead.string(d.version, "\(what) version", limit: 64)
        guard isValidVersion(version) else {
            throw GradusError("\(what) has version '\(version)', expected MAJOR.MINOR.PATCH")
        }
        let summary = try ABIRead.string(d.summary, "\(what) summary", limit: 1024)
        let reference = try ABIRead.optionalString(d.reference, "\(what) reference", limit: 1024)
        let unknownCaps = d.capabilities & ~UInt64(GRADUS_CAP_KNOWN_MASK)
        guard unknownCaps == 0 else {
            throw GradusError("\(what) declares unknown capability bits 0x\(String(unknownCaps, radix: 16)) (this host knows 0x\(String(UInt64(GRADUS_CAP_KNOWN_MASK), radix: 16)))")
        }
        let schema = try hyperparameters(d, what: what)
        guard let vtablePointer = d.vtable else { throw GradusError("\(what) has a NULL vtable") }
        let vtable = try vtableFor(kind, vtablePointer, what: what)
        if d.capabilities & UInt64(GRADUS_CAP_EVAL_POINT) != 0 {
            guard abiVersion != "1.0", abiVersion != "1.1" else {
                throw GradusError("\(what) declares eval_point, which needs ABI 1.2, but the plugin negotiated \(abiVersion)")
            }
            guard case .optimizer(let v) = vtable, v.eval_point != nil else {
                throw GradusError("\(what) declares eval_point but has no optimizer vtable entry eval_point")
            }
        }
        if case .function = vtable, !schema.isEmpty {
            throw GradusError("\(what) is a function but declares hyperparameters; functions take arguments from their signature")
        }
        return StrategyDescriptor(kind: kind, id: id, displayName: displayName, version: version, summary: summary,
                                  reference: reference, capabilities: d.capabilities, hyperparameters: schema,
                                  vtable: vtable, file: file, abiVersion: abiVersion, raw: raw)
    }

    static func isValidStrategyID(_ id: String) -> Bool {
        let parts = id.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2 else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
        }
    }

    static func isValidIdentifier(_ s: String) -> Bool {
        guard let first = s.first, ("a"..."z").contains(first) || first == "_" else { return false }
        return s.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func isValidVersion(_ v: String) -> Bool {
        let core = v.split(separator: "-", maxSplits: 1).first.map(String.init) ?? ""
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }

    static func hyperparameters(_ d: gradus_strategy_descriptor, what: String) throws -> [HyperparameterSpec] {
        let count = Int(d.hyperparameter_count)
        guard count <= maxHyperparameters else {
            throw GradusError("\(what) declares \(count) hyperparameters, expected at most \(maxHyperparameters)")
        }
        guard count > 0 else { return [] }
        guard let base = d.hyperparameters else {
            throw GradusError("\(what) declares \(count) hyperparameters but the array is NULL")
        }
        let stride = Int(base.pointee.struct_size)
        var specs: [HyperparameterSpec] = []
        for i in 0..<count {
            let h = try ABIRead.copy(ABIRead.element(base, i, stride: stride), as: gradus_hyperparameter.self,
                                     what: "\(what) hyperparameter \(i)")
            let id = try ABIRead.string(h.id, "\(what) hyperparameter \(i) id", limit: 64)
            let hw = "\(what) hyperparameter '\(id)'"
            guard isValidIdentifier(id) else { throw GradusError("\(hw): id expected [a-z_][a-z0-9_]*") }
            guard !specs.contains(where: { $0.id == id }) else { throw GradusError("\(hw) is declared twice") }
            let name = try ABIRead.string(h.name, "\(hw) name", limit: 256)
            let doc = try ABIRead.optionalString(h.doc, "\(hw) doc", limit: 1024) ?? ""
            let knownFlags = UInt32(GRADUS_HP_LOG_SCALE | GRADUS_HP_SCHEDULABLE | GRADUS_HP_PER_GROUP
                                    | GRADUS_HP_MIN_EXCLUSIVE | GRADUS_HP_MAX_EXCLUSIVE)
            guard h.flags & ~knownFlags == 0 else { throw GradusError("\(hw) has unknown flags 0x\(String(h.flags, radix: 16))") }
            var choices: [String] = []
            let type: HyperparameterType
            let value: HyperparameterValue
            switch h.type {
            case GRADUS_HP_F64:
                type = .real
                guard !h.min_f64.isNaN, !h.max_f64.isNaN, h.min_f64 <= h.max_f64 else {
                    throw GradusError("\(hw) has range [\(h.min_f64), \(h.max_f64)], expected min <= max")
                }
                value = .real(h.default_f64)
            case GRADUS_HP_I64:
                type = .integer
                guard h.min_i64 <= h.max_i64 else {
                    throw GradusError("\(hw) has range [\(h.min_i64), \(h.max_i64)], expected min <= max")
                }
                value = .integer(h.default_i64)
            case GRADUS_HP_BOOL:
                type = .flag
                guard h.default_i64 == 0 || h.default_i64 == 1 else {
                    throw GradusError("\(hw) has boolean default \(h.default_i64), expected 0 or 1")
                }
                value = .flag(h.default_i64 == 1)
            case GRADUS_HP_ENUM:
                type = .choice
                guard h.enum_count >= 1, h.enum_count <= 256, let names = h.enum_values else {
                    throw GradusError("\(hw) is an enum with \(h.enum_count) values, expected 1 to 256 and a non-NULL list")
                }
                for k in 0..<Int(h.enum_count) {
                    let n = try ABIRead.string(names[k], "\(hw) enum value \(k)", limit: 64)
                    guard !n.isEmpty, !choices.contains(n) else { throw GradusError("\(hw) enum value '\(n)' is empty or repeated") }
                    choices.append(n)
                }
                guard choices.indices.contains(Int(h.default_i64)) else {
                    throw GradusError("\(hw) has default index \(h.default_i64), expected 0..<\(choices.count)")
                }
                value = .choice(index: Int(h.default_i64), name: choices[Int(h.default_i64)])
            case GRADUS_HP_STRING:
                type = .text
                value = .text(try ABIRead.optionalString(h.default_str, "\(hw) default", limit: 4096) ?? "")
            default:
                throw GradusError("\(hw) has type \(h.type), expected 1 (f64), 2 (i64), 3 (bool), 4 (enum) or 5 (string)")
            }
            let spec = HyperparameterSpec(id: id, name: name, doc: doc, type: type, flags: h.flags, defaultValue: value,
                                          minReal: h.min_f64, maxReal: h.max_f64, minInteger: h.min_i64,
                                          maxInteger: h.max_i64, choices: choices)
            guard spec.accepts(value) else {
                throw GradusError("\(hw) has default \(value) outside its range \(spec.rangeText)")
            }
            specs.append(spec)
        }
        return specs
    }

    static func vtableFor(_ kind: StrategyKind, _ p: UnsafeRawPointer, what: String) throws -> StrategyVTable {
        func missing(_ slot: String) -> GradusError { GradusError("\(what) has a NULL required slot '\(slot)'") }
        switch kind {
        case .optimizer:
            let v = try ABIRead.copy(p, as: gradus_optimizer_vtable.self, what: "\(what) optimizer vtable")
            if v.create == nil { throw missing("create") }
            if v.destroy == nil { throw missing("destroy") }
            if v.state_layout == nil { throw missing("state_layout") }
            if v.step == nil { throw missing("step") }
            if (v.save_extra == nil) != (v.load_extra == nil) {
                throw GradusError("\(what) implements only one of save_extra and load_extra, expected both or neither")
            }
            return .optimizer(v)
        case .normalizer:
            let v = try ABIRead.copy(p, as: gradus_normalizer_vtable.self, what: "\(what) normalizer vtable")
            if v.create == nil { throw missing("create") }
            if v.destroy == nil { throw missing("destroy") }
            if v.describe == nil { throw missing("describe") }
            if (v.forward == nil) != (v.backward == nil) {
                throw GradusError("\(what) implements only one of forward and backward, expected both for the kernel form")
            }
            if v.forward == nil && v.build_graph == nil {
                throw GradusError("\(what) has neither a kernel form (forward/backward) nor a graph form (build_graph)")
            }
            return .normalizer(v)
        case .pruner:
            let v = try ABIRead.copy(p, as: gradus_pruner_vtable.self, what: "\(what) pruner vtable")
            if v.create == nil { throw missing("create") }
            if v.destroy == nil { throw missing("destroy") }
            if v.score == nil && v.update_masks == nil {
                throw GradusError("\(what) has neither score nor update_masks")
            }
            return .pruner(v)
        case .function:
            let v = try ABIRead.copy(p, as: gradus_function_vtable.self, what: "\(what) function vtable")
            let text = try ABIRead.string(v.signature, "\(what) signature", limit: 1024)
            let signature: FunctionSignature
            do { signature = try FunctionSignature(parsing: text) } catch let e as GradusError {
                throw GradusError("\(what) has signature '\(text)': \(e.message)")
            }
            guard let fn = v.fn else { throw missing("fn") }
            return .function(signature: signature, fn: fn, purpose: v.purpose)
        }
    }
}
