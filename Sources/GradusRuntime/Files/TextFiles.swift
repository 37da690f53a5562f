import Foundation

/// Decoding and shape checks for text files a user points at (CSV data, YAML configurations).
enum TextFiles {
    /// `data` as UTF-8 text, or an error naming the first invalid byte and its offset.
    static func utf8(_ data: Data, source: String) throws -> String {
        if let text = String(data: data, encoding: .utf8) { return text }
        // Find the first byte where decoding fails, for the message.
        var offset = 0
        let bytes = [UInt8](data)
        while offset < bytes.count {
            let b = bytes[offset]
            let length = b < 0x80 ? 1 : b >> 5 == 0b110 ? 2 : b >> 4 == 0b1110 ? 3 : b >> 3 == 0b11110 ? 4 : 0
            guard length > 0, offset + length <= bytes.count,
                  String(bytes: bytes[offset..<(offset + length)], encoding: .utf8) != nil else { break }
            offset += length
        }
        let byte = offset < bytes.count ? String(format: "0x%02X", bytes[offset]) : "the end"
        throw GradusError("\(source): not UTF-8 text (invalid byte \(byte) at offset \(offset)); save it as UTF-8")
    }
}

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
