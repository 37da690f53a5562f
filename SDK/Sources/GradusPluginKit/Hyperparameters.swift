import CGradusABI

/// One entry of a strategy's hyperparameter schema, declared in Swift.
/// The kit turns the list into the C `gradus_hyperparameter` array the host validates against.
public struct Hyperparameter: Sendable {
    /// Flags of a hyperparameter (`GRADUS_HP_*`).
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let logScale = Flags(rawValue: UInt32(GRADUS_HP_LOG_SCALE))
        public static let schedulable = Flags(rawValue: UInt32(GRADUS_HP_SCHEDULABLE))
        public static let perGroup = Flags(rawValue: UInt32(GRADUS_HP_PER_GROUP))
        public static let minExclusive = Flags(rawValue: UInt32(GRADUS_HP_MIN_EXCLUSIVE))
        public static let maxExclusive = Flags(rawValue: UInt32(GRADUS_HP_MAX_EXCLUSIVE))
    }

    enum Kind: Sendable {
        case real(default: Double, min: Double, max: Double)
        case integer(default: Int64, min: Int64, max: Int64)
        case flag(default: Bool)
        case choice(default: Int, values: [String])
        case text(default: String)
    }

    public let id: String
    public let name: String
    public let doc: String
    public let flags: Flags
    let kind: Kind

    /// A real number (`f64`) in `[min, max]` (or exclusive bounds through `flags`).
    public static func real(_ id: String, _ name: String? = nil, default value: Double,
                            min: Double = -.infinity, max: Double = .infinity,
                            flags: Flags = [], doc: String) -> Hyperparameter {
        Hyperparameter(id: id, name: name ?? id, doc: doc, flags: flags, kind: .real(default: value, min: min, max: max))
    }

    /// An integer (`i64`) in `[min, max]`.
    public static func integer(_ id: String, _ name: String? = nil, default value: Int64,
                               min: Int64 = .min, max: Int64 = .max,
                               flags: Flags = [], doc: String) -> Hyperparameter {
        Hyperparameter(id: id, name: name ?? id, doc: doc, flags: flags, kind: .integer(default: value, min: min, max: max))
    }

    /// A boolean.
    public static func flag(_ id: String, _ name: String? = nil, default value: Bool = false,
                            flags: Flags = [], doc: String) -> Hyperparameter {
        Hyperparameter(id: id, name: name ?? id, doc: doc, flags: flags, kind: .flag(default: value))
    }

    /// One of a fixed set of names.
    public static func choice(_ id: String, _ name: String? = nil, values: [String], default value: String,
                              flags: Flags = [], doc: String) -> Hyperparameter {
        let index = values.firstIndex(of: value) ?? 0
        return Hyperparameter(id: id, name: name ?? id, doc: doc, flags: flags, kind: .choice(default: index, values: values))
    }

    /// Free text.
    public static func text(_ id: String, _ name: String? = nil, default value: String = "",
                            flags: Flags = [], doc: String) -> Hyperparameter {
        Hyperparameter(id: id, name: name ?? id, doc: doc, flags: flags, kind: .text(default: value))
    }

    /// The C form; its strings are permanent.
    func cDescriptor() -> gradus_hyperparameter {
        var c = gradus_hyperparameter()
        c.struct_size = abiSize(gradus_hyperparameter.self)
        c.abi_minor = UInt32(GRADUS_ABI_MINOR)
        c.id = Permanent.cString(id)
        c.name = Permanent.cString(name)
        c.doc = Permanent.cString(doc)
        c.flags = flags.rawValue
        switch kind {
        case let .real(value, lo, hi):
            c.type = GRADUS_HP_F64; c.default_f64 = value; c.min_f64 = lo; c.max_f64 = hi
        case let .integer(value, lo, hi):
            c.type = GRADUS_HP_I64; c.default_i64 = value; c.min_i64 = lo; c.max_i64 = hi
        case let .flag(value):
            c.type = GRADUS_HP_BOOL; c.default_i64 = value ? 1 : 0; c.min_i64 = 0; c.max_i64 = 1
        case let .choice(index, values):
            c.type = GRADUS_HP_ENUM; c.default_i64 = Int64(index); c.min_i64 = 0; c.max_i64 = Int64(values.count - 1)
            c.enum_values = UnsafePointer(Permanent.array(values.map { Optional(Permanent.cString($0)) }))
            c.enum_count = UInt32(values.count)
        case let .text(value):
            c.type = GRADUS_HP_STRING; c.default_str = Permanent.cString(value)
        }
        return c
    }
}

/// A hyperparameter declared as a typed key: the same value lists it in the schema
/// (`schema(lr, beta1)`) and reads it in a step (`hp[Self.lr]`), so a misspelt id is a compile
/// error, not a failure at run time.
public protocol HyperparameterKey: Sendable {
    /// The schema entry.
    var hyperparameter: Hyperparameter { get }
}

extension Hyperparameter: HyperparameterKey {
    public var hyperparameter: Hyperparameter { self }
}

/// A strategy's schema from its keys, in order.
public func schema(_ keys: any HyperparameterKey...) -> [Hyperparameter] { keys.map(\.hyperparameter) }

/// An `f64` hyperparameter key (`Real("lr", default: 1e-3, min: 0, doc: "learning rate")`).
public struct Real: HyperparameterKey {
    public let hyperparameter: Hyperparameter
    public init(_ id: String, _ name: String? = nil, default value: Double, min: Double = -.infinity, max: Double = .infinity,
                flags: Hyperparameter.Flags = [], doc: String) {
        hyperparameter = .real(id, name, default: value, min: min, max: max, flags: flags, doc: doc)
    }
}

/// An `i64` hyperparameter key.
public struct Integer: HyperparameterKey {
    public let hyperparameter: Hyperparameter
    public init(_ id: String, _ name: String? = nil, default value: Int64, min: Int64 = .min, max: Int64 = .max,
                flags: Hyperparameter.Flags = [], doc: String) {
        hyperparameter = .integer(id, name, default: value, min: min, max: max, flags: flags, doc: doc)
    }
}

/// A boolean hyperparameter key.
public struct Flag: HyperparameterKey {
    public let hyperparameter: Hyperparameter
    public init(_ id: String, _ name: String? = nil, default value: Bool = false, flags: Hyperparameter.Flags = [], doc: String) {
        hyperparameter = .flag(id, name, default: value, flags: flags, doc: doc)
    }
}

/// A hyperparameter key naming one of a fixed set of values.
public struct Choice: HyperparameterKey {
    public let hyperparameter: Hyperparameter
    public init(_ id: String, _ name: String? = nil, values: [String], default value: String, flags: Hyperparameter.Flags = [], doc: String) {
        hyperparameter = .choice(id, name, values: values, default: value, flags: flags, doc: doc)
    }
}

/// A free-text hyperparameter key.
public struct Text: HyperparameterKey {
    public let hyperparameter: Hyperparameter
    public init(_ id: String, _ name: String? = nil, default value: String = "", flags: Hyperparameter.Flags = [], doc: String) {
        hyperparameter = .text(id, name, default: value, flags: flags, doc: doc)
    }
}

/// The hyperparameter values the host passed in (complete, in schema order, range-checked),
/// read with the strategy's keys: `hp[Self.lr]`. Borrowed: valid only during the call that
/// received it. A key that is not in the strategy's schema reads as its own default.
public struct HyperparameterValues {
    let raw: UnsafePointer<gradus_hp_values>?
    let schema: SchemaIndex

    init(_ raw: UnsafePointer<gradus_hp_values>?, schema: SchemaIndex) {
        self.raw = raw
        self.schema = schema
    }

    private func value(_ key: Hyperparameter) -> gradus_hp_value {
        guard let index = schema.position(of: key.id) else { return SchemaIndex.defaultValue(key) }
        guard let raw, let values = raw.pointee.values, index < Int(raw.pointee.count) else {
            return schema.defaults[index]
        }
        return abiElement(values, index, stride: values.pointee.struct_size).pointee
    }

    public subscript(_ key: Real) -> Double { value(key.hyperparameter).f64 }
    public subscript(_ key: Integer) -> Int64 { value(key.hyperparameter).i64 }
    public subscript(_ key: Flag) -> Bool { value(key.hyperparameter).i64 != 0 }
    /// The chosen name.
    public subscript(_ key: Choice) -> String {
        let v = value(key.hyperparameter)
        if let s = v.str { return String(cString: s) }
        guard case let .choice(_, names) = key.hyperparameter.kind, names.indices.contains(Int(v.i64)) else { return "" }
        return names[Int(v.i64)]
    }
    public subscript(_ key: Text) -> String {
        let v = value(key.hyperparameter)
        if let s = v.str { return String(cString: s) }
        if case let .text(d) = key.hyperparameter.kind { return d }
        return ""
    }
}

/// Maps hyperparameter ids to their schema positions, with the defaults as a fallback.
final class SchemaIndex {
    let positions: [String: Int]
    /// The ids in schema order: schemas are short and ids are small inline strings, so a scan
    /// compares a few words where a dictionary would hash (this runs for every read in a step).
    let ids: [String]

    func position(of id: String) -> Int? {
        if ids.count <= 16 { return ids.firstIndex(of: id) }
        return positions[id]
    }
    let defaults: [gradus_hp_value]
    let enumNames: [String: [String]]

    init(_ schema: [Hyperparameter]) {
        var positions: [String: Int] = [:]
        var enums: [String: [String]] = [:]
        var defaults: [gradus_hp_value] = []
        for (i, h) in schema.enumerated() {
            positions[h.id] = i
            if case let .choice(_, names) = h.kind { enums[h.id] = names }
            defaults.append(SchemaIndex.defaultValue(h))
        }
        self.positions = positions
        ids = schema.map(\.id)
        self.defaults = defaults
        self.enumNames = enums
    }

    /// The C value of `h`'s default (strings read through the key, so `str` stays NULL).
    static func defaultValue(_ h: Hyperparameter) -> gradus_hp_value {
        var v = gradus_hp_value()
        v.struct_size = abiSize(gradus_hp_value.self)
        switch h.kind {
        case let .real(d, _, _): v.type = GRADUS_HP_F64; v.f64 = d
        case let .integer(d, _, _): v.type = GRADUS_HP_I64; v.i64 = d
        case let .flag(d): v.type = GRADUS_HP_BOOL; v.i64 = d ? 1 : 0
        case let .choice(d, _): v.type = GRADUS_HP_ENUM; v.i64 = Int64(d)
        case .text: v.type = GRADUS_HP_STRING
        }
        return v
    }
}
