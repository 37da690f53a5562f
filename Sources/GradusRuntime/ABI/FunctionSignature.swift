/// A value type a function plugin can take or return (gradus/function.h).
public enum FFIValueType: String, Sendable, CaseIterable {
    case void, bool, i32, u32, i64, u64, f32, f64, str
}

/// A parsed signature such as `f64 cosine(i64 step, i64 total_steps, f64 base)`.
public struct FunctionSignature: Equatable, Sendable, CustomStringConvertible {
    public let returnType: FFIValueType
    public let name: String
    public let arguments: [(type: FFIValueType, name: String)]

    public static func == (a: FunctionSignature, b: FunctionSignature) -> Bool {
        a.returnType == b.returnType && a.name == b.name
            && a.arguments.map(\.type) == b.arguments.map(\.type) && a.arguments.map(\.name) == b.arguments.map(\.name)
    }

    public var description: String {
        "\(returnType.rawValue) \(name)(" + arguments.map { "\($0.type.rawValue) \($0.name)" }.joined(separator: ", ") + ")"
    }

    /// Parses the grammar of gradus/function.h; the error says what was expected where.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingWhitespace
        guard let open = trimmed.firstIndex(of: "("), trimmed.hasSuffix(")") else {
            throw GradusError("expected 'type name(type arg, ...)'")
        }
        let head = trimmed[..<open].split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard head.count == 2 else { throw GradusError("expected a return type and a name before '('") }
        guard let ret = FFIValueType(rawValue: String(head[0])) else {
            throw GradusError("unknown return type '\(head[0])' (expected one of \(FFIValueType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let name = String(head[1])
        guard FunctionSignature.isIdentifier(name) else { throw GradusError("'\(name)' is not a valid function name") }
        let inner = trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)].trimmingWhitespace
        var args: [(FFIValueType, String)] = []
        if !inner.isEmpty && inner != "void" {
            for part in inner.split(separator: ",", omittingEmptySubsequences: false) {
                let words = part.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard words.count == 2 else { throw GradusError("argument '\(part.trimmingWhitespace)' should be 'type name'") }
                guard let t = FFIValueType(rawValue: String(words[0])), t != .void else {
                    throw GradusError("unknown argument type '\(words[0])'")
                }
                let argName = String(words[1])
                guard FunctionSignature.isIdentifier(argName) else { throw GradusError("'\(argName)' is not a valid argument name") }
                guard !args.contains(where: { $0.1 == argName }) else { throw GradusError("argument '\(argName)' appears twice") }
                args.append((t, argName))
            }
        }
        guard args.count <= 32 else { throw GradusError("\(args.count) arguments, expected at most 32") }
        returnType = ret
        self.name = name
        arguments = args.map { (type: $0.0, name: $0.1) }
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.first, f.isLetter || f == "_" else { return false }
        return s.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" }
    }
}

extension StringProtocol {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
