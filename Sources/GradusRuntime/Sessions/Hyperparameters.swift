import CGradusABI
import Foundation

/// The type of a hyperparameter (`GRADUS_HP_*`).
public enum HyperparameterType: String, Sendable {
    case real = "f64", integer = "i64", flag = "bool", choice = "enum", text = "string"
}

/// A hyperparameter value on the host side.
public enum HyperparameterValue: Equatable, Sendable, CustomStringConvertible {
    case real(Double)
    case integer(Int64)
    case flag(Bool)
    case choice(index: Int, name: String)
    case text(String)

    public var description: String {
        switch self {
        case .real(let v): return formatNumber(v)
        case .integer(let v): return String(v)
        case .flag(let v): return v ? "true" : "false"
        case .choice(_, let name): return name
        case .text(let s): return s
        }
    }

    /// The value as a double, for schedules (nil for text and choices).
    public var numeric: Double? {
        switch self {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        case .flag(let v): return v ? 1 : 0
        default: return nil
        }
    }
}

/// Formats a double the shortest way that reads back exactly.
func formatNumber(_ v: Double) -> String {
    if v.isFinite && v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
    return "\(v)"
}

/// One validated schema entry of a strategy, copied out of the plugin.
public struct HyperparameterSpec: Sendable {
    public let id: String
    public let name: String
    public let doc: String
    public let type: HyperparameterType
    public let flags: UInt32
    public let defaultValue: HyperparameterValue
    public let minReal: Double, maxReal: Double
    public let minInteger: Int64, maxInteger: Int64
    public let choices: [String]

    public var isSchedulable: Bool { flags & UInt32(GRADUS_HP_SCHEDULABLE) != 0 }
    public var isPerGroup: Bool { flags & UInt32(GRADUS_HP_PER_GROUP) != 0 }
    var minExclusive: Bool { flags & UInt32(GRADUS_HP_MIN_EXCLUSIVE) != 0 }
    var maxExclusive: Bool { flags & UInt32(GRADUS_HP_MAX_EXCLUSIVE) != 0 }

    /// Flag names, for `plugins info`.
    public var flagNames: [String] {
        [(GRADUS_HP_LOG_SCALE, "log_scale"), (GRADUS_HP_SCHEDULABLE, "schedulable"), (GRADUS_HP_PER_GROUP, "per_group"),
         (GRADUS_HP_MIN_EXCLUSIVE, "min_exclusive"), (GRADUS_HP_MAX_EXCLUSIVE, "max_exclusive")]
            .filter { flags & UInt32($0.0) != 0 }.map(\.1)
    }

    /// The allowed range, in words, for error messages and `plugins info`.
    public var rangeText: String {
        switch type {
        case .real:
            let lo = minReal == -.infinity ? "-inf" : formatNumber(minReal)
            let hi = maxReal == .infinity ? "inf" : formatNumber(maxReal)
            return "\(minExclusive ? "(" : "[")\(lo), \(hi)\(maxExclusive ? ")" : "]")"
        case .integer:
            let lo = minInteger == .min ? "-inf" : String(minInteger)
            let hi = maxInteger == .max ? "inf" : String(maxInteger)
            return "[\(lo), \(hi)]"
        case .flag: return "true or false"
        case .choice: return "one of " + choices.joined(separator: ", ")
        case .text: return "any text"
        }
    }

    /// Whether `value` has this entry's type and lies in its range.
    func accepts(_ value: HyperparameterValue) -> Bool {
        switch (type, value) {
        case (.real, .real(let v)):
            guard !v.isNaN else { return false }
            let aboveMin = minExclusive ? v > minReal : v >= minReal
            let belowMax = maxExclusive ? v < maxReal : v <= maxReal
            return aboveMin && belowMax
        case (.integer, .integer(let v)): return v >= minInteger && v <= maxInteger
        case (.flag, .flag): return true
        case (.choice, .choice(let i, let name)): return choices.indices.contains(i) && choices[i] == name
        case (.text, .text): return true
        default: return false
        }
    }

    /// Parses user text (from `--set` or a config file) into a value, or says why not in one line.
    public func parse(_ text: String, owner: String) throws -> HyperparameterValue {
        let t = text.trimmingCharacters(in: .whitespaces)
        let value: HyperparameterValue
        switch type {
        case .real:
            guard let v = Double(t), !v.isNaN else {
                throw GradusError("\(owner): \(id)=\(text) is not a number (expected a real number in \(rangeText))")
            }
            let mantissa = t.lowercased().split(separator: "e", maxSplits: 1).first ?? ""
            if v == 0, mantissa.contains(where: { ("1"..."9").contains($0) }) {
                throw GradusError("\(owner): \(id)=\(text) underflows to 0 in double precision (expected a real number in \(rangeText))")
            }
            if v.isInfinite, !t.lowercased().contains("inf") {
                throw GradusError("\(owner): \(id)=\(text) overflows double precision (expected a real number in \(rangeText))")
            }
            value = .real(v)
        case .integer:
            guard let v = Int64(t) else {
                throw GradusError("\(owner): \(id)=\(text) is not an integer (expected an integer in \(rangeText))")
            }
            value = .integer(v)
        case .flag:
            switch t.lowercased() {
            case "true", "1", "yes", "on": value = .flag(true)
            case "false", "0", "no", "off": value = .flag(false)
            default: throw GradusError("\(owner): \(id)=\(text) is not a boolean (expected true or false)")
            }
        case .choice:
            guard let i = choices.firstIndex(of: t) else {
                throw GradusError("\(owner): \(id)=\(text) is not allowed (expected \(rangeText))")
            }
            value = .choice(index: i, name: t)
        case .text:
            value = .text(text)
        }
        guard accepts(value) else {
            throw GradusError("\(owner): \(id)=\(text) is out of range (expected \(rangeText))")
        }
        return value
    }
}

/// A complete set of values for one strategy: one per schema entry, in schema order,
/// laid out as the C `gradus_hp_values` the plugin reads. Owns its C memory.
public final class HyperparameterSet {
    public let schema: [HyperparameterSpec]
    public private(set) var values: [HyperparameterValue]
    private let cValues: UnsafeMutablePointer<gradus_hp_value>
    private var cStrings: [UnsafeMutablePointer<CChar>?]
    let cSet: UnsafeMutablePointer<gradus_hp_values>

    /// Defaults, then `overrides` (id → text) validated against the schema.
    public init(schema: [HyperparameterSpec], overrides: [(String, String)] = [], owner: String) throws {
        self.schema = schema
        values = schema.map(\.defaultValue)
        cValues = .allocate(capacity: max(1, schema.count))
        cStrings = Array(repeating: nil, count: schema.count)
        cSet = .allocate(capacity: 1)
        var header = gradus_hp_values()
        ABIWrite.header(&header)
        header.values = UnsafePointer(cValues)
        header.count = UInt32(schema.count)
        cSet.initialize(to: header)
        for (i, spec) in schema.enumerated() {
            var v = gradus_hp_value()
            ABIWrite.header(&v)
            (cValues + i).initialize(to: v)
            write(i, spec.defaultValue)
        }
        for (key, text) in overrides {
            guard let i = schema.firstIndex(where: { $0.id == key }) else {
                let known = schema.map(\.id).joined(separator: ", ")
                throw GradusError("\(owner): unknown hyperparameter '\(key)' (expected one of: \(known.isEmpty ? "none" : known))")
            }
            try set(i, schema[i].parse(text, owner: owner))
        }
    }

    deinit {
        for s in cStrings { free(s) }
        for s in idStrings.values { free(s) }
        cValues.deinitialize(count: schema.count)
        cValues.deallocate()
        cSet.deallocate()
    }

    /// The index of `id` in the schema.
    public func index(of id: String) -> Int? { schema.firstIndex { $0.id == id } }

    /// The current value of `id`.
    public subscript(id: String) -> HyperparameterValue? { index(of: id).map { values[$0] } }

    /// Replaces one value after checking it against the schema.
    public func set(_ i: Int, _ value: HyperparameterValue) throws {
        guard schema[i].accepts(value) else {
            throw GradusError("\(schema[i].id)=\(value) is out of range (expected \(schema[i].rangeText))")
        }
        write(i, value)
    }

    private func write(_ i: Int, _ value: HyperparameterValue) {
        values[i] = value
        let p = cValues + i
        p.pointee.id = UnsafePointer(idString(i))
        switch value {
        case .real(let v): p.pointee.type = GRADUS_HP_F64; p.pointee.f64 = v
        case .integer(let v): p.pointee.type = GRADUS_HP_I64; p.pointee.i64 = v; p.pointee.f64 = Double(v)
        case .flag(let v): p.pointee.type = GRADUS_HP_BOOL; p.pointee.i64 = v ? 1 : 0; p.pointee.f64 = v ? 1 : 0
        case .choice(let index, let name):
            p.pointee.type = GRADUS_HP_ENUM; p.pointee.i64 = Int64(index)
            p.pointee.str = UnsafePointer(replaceString(i, name))
        case .text(let s):
            p.pointee.type = GRADUS_HP_STRING; p.pointee.str = UnsafePointer(replaceString(i, s))
        }
    }

    private var idStrings: [Int: UnsafeMutablePointer<CChar>] = [:]
    private func idString(_ i: Int) -> UnsafeMutablePointer<CChar> {
        if let existing = idStrings[i] { return existing }
        let c = strdup(schema[i].id)!
        idStrings[i] = c
        return c
    }
    private func replaceString(_ i: Int, _ s: String) -> UnsafeMutablePointer<CChar>? {
        free(cStrings[i])
        cStrings[i] = strdup(s)
        return cStrings[i]
    }

    /// Borrowed pointer for plugin calls; valid while this set lives and is not modified.
    public var pointer: UnsafePointer<gradus_hp_values> { UnsafePointer(cSet) }
}
