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

