import Foundation

/// A conservative estimate of how deeply a YAML text nests, made without parsing it, so that a
/// document nested thousands of levels deep is refused before the parser (which recurses once per
/// level) can overflow its stack. Per line — LF, CR and CRLF all end one — it adds the
/// indentation, the block indicators that open the line ("- - - x", "? ", ": "), and the flow
/// brackets open at that point. Brackets are counted even inside quotes: overcounting only makes
/// the estimate safer, and a real configuration stays far below the bound either way.
enum YAMLNesting {
    static func estimate(_ text: String) -> Int {
        let bytes = Array(text.utf8)
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        var deepest = 0, flow = 0, i = 0
        while i < bytes.count {
            var indent = 0
            while i < bytes.count, bytes[i] == space || bytes[i] == tab { indent += 1; i += 1 }
            var indicators = 0
            while i + 1 < bytes.count, [UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":")].contains(bytes[i]),
                  bytes[i + 1] == space || bytes[i + 1] == tab {
                indicators += 1
                i += 2
                while i < bytes.count, bytes[i] == space || bytes[i] == tab { i += 1 }
            }
            var lineFlow = flow
            while i < bytes.count, bytes[i] != lf, bytes[i] != cr {
                switch bytes[i] {
                case UInt8(ascii: "["), UInt8(ascii: "{"): flow += 1; lineFlow = max(lineFlow, flow)
                case UInt8(ascii: "]"), UInt8(ascii: "}"): flow = max(0, flow - 1)
                default: break
                }
                i += 1
            }
            deepest = max(deepest, indent + indicators + lineFlow)
            while i < bytes.count, bytes[i] == lf || bytes[i] == cr { i += 1 }
        }
        return deepest
    }
}
