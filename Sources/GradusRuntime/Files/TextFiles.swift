import Foundation

/// Reading and decoding the files a user points at (CSV data, YAML configurations, arrays, checkpoints).
enum TextFiles {
    /// The bytes of `path`, which must be a regular file (not a directory, device or FIFO, which
    /// could be endless or block) of at most `limit` bytes, checked before anything is read.
    static func readRegularFile(_ path: String, what: String, limit: Int = Int.max) throws -> Data {
        var st = stat()
        guard stat(path, &st) == 0 else { throw GradusError("\(path): cannot read the \(what): \(String(cString: strerror(errno)))") }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw GradusError("\(path): is a directory, expected a \(what)")
        default: throw GradusError("\(path): is not a regular file (a device, FIFO or socket), expected a \(what)")
        }
        guard st.st_size <= limit else { throw GradusError("\(path): \(st.st_size) bytes, more than the \(limit) a \(what) may have") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw GradusError("\(path): cannot read the \(what): \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        do {
            // Never more than the limit, even if the file grew since stat.
            return try handle.read(upToCount: limit == Int.max ? Int(st.st_size) + 1 : limit + 1) ?? Data()
        } catch {
            throw GradusError("\(path): cannot read the \(what): \(error.localizedDescription)")
        }
    }

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

