import Foundation

/// Minimal JSON writing with keys kept in the order given.
public enum JSONText {
    public static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
    /// A number; JSON has no NaN or Infinity, so those are written as null.
    public static func number(_ v: Double) -> String { v.isFinite ? "\(v)" : "null" }
    public static func number(_ v: Float) -> String { v.isFinite ? "\(v)" : "null" }
    public static func array(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }
    public static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }
}
