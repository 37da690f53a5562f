import Foundation

/// A conservative estimate of how deeply a YAML text nests, made without parsing it: per line,
/// the indentation plus the block sequence indicators that open it ("- - - x") plus the flow
/// brackets open at that point. A real configuration stays far below the bound; a crafted one
/// thousands of levels deep is refused before the parser recurses into it.
enum YAMLNesting {
    static func estimate(_ text: String) -> Int {
        var deepest = 0, flow = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let chars = Array(line.utf8)
            var i = 0
            while i < chars.count, chars[i] == UInt8(ascii: " ") || chars[i] == UInt8(ascii: "\t") { i += 1 }
            let indent = i
            var indicators = 0
            while i + 1 < chars.count, chars[i] == UInt8(ascii: "-") || chars[i] == UInt8(ascii: "?") || chars[i] == UInt8(ascii: ":"),
                  chars[i + 1] == UInt8(ascii: " ") {
                indicators += 1
                i += 2
                while i < chars.count, chars[i] == UInt8(ascii: " ") { i += 1 }
            }
            var quote: UInt8? = nil
            var lineFlow = flow
            while i < chars.count {
                let c = chars[i]
                if let q = quote {
                    if c == q { quote = nil }
                } else if c == UInt8(ascii: "#") && (i == 0 || chars[i - 1] == UInt8(ascii: " ")) {
                    break
                } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                    quote = c
                } else if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") {
                    flow += 1
                    lineFlow = max(lineFlow, flow)
                } else if c == UInt8(ascii: "]") || c == UInt8(ascii: "}") {
                    flow = max(0, flow - 1)
                }
                i += 1
            }
            deepest = max(deepest, indent + indicators + lineFlow)
        }
        return deepest
    }
}
