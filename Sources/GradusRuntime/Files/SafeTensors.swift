import Foundation
import GradusCore

/// Reads and writes the safetensors format (F32 tensors, and F64 ones for exact optimizer
/// scalars): an 8-byte little-endian header
/// length, a JSON header naming each tensor's dtype, shape and byte range, then the data.
/// Files written here load with Python's `safetensors` package.
///
/// The reader treats every byte as untrusted: sizes are checked before they are multiplied or
/// added, numbers in the header must be non-negative integers, JSON nesting is bounded before it
/// is parsed, and every inconsistency is one error naming the file, the entry and the values.
public enum SafeTensors {
    /// The largest header accepted (the format's own readers stop at 100 MB).
    public static let maxHeaderBytes: UInt64 = 100_000_000
    /// The deepest JSON nesting a header may have (a valid one has 3 levels).
    static let maxHeaderDepth = 16

    /// An F64 tensor: shape and row-major values.
    public struct Doubles: Equatable {
        public let shape: [Int]
        public let values: [Double]
        public init(shape: [Int], values: [Double]) { self.shape = shape; self.values = values }
    }

    /// What a file holds.
    public struct Contents {
        public var tensors: [String: Tensor]
        public var doubles: [String: Doubles]
        public var metadata: [String: String]
    }

    /// Serialises `tensors` (F32) and `doubles` (F64), all written in name order, and string metadata.
    public static func encode(_ tensors: [(String, Tensor)], doubles: [(String, Doubles)] = [], metadata: [String: String]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        enum Item { case f32(Tensor), f64(Doubles) }
        let items = (tensors.map { ($0.0, Item.f32($0.1)) } + doubles.map { ($0.0, Item.f64($0.1)) }).sorted { $0.0 < $1.0 }
        var offset = 0
        for (name, item) in items {
            let (dtype, shape, bytes): (String, [Int], Int)
            switch item {
            case .f32(let t): (dtype, shape, bytes) = ("F32", t.shape, t.count * 4)
            case .f64(let d): (dtype, shape, bytes) = ("F64", d.shape, d.values.count * 8)
            }
            header[name] = ["dtype": dtype, "shape": shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, item) in items {
            switch item {
            case .f32(let t): t.withUnsafeBuffer { out.append(UnsafeBufferPointer(start: $0.baseAddress, count: $0.count)) }
            case .f64(let d): d.values.withUnsafeBufferPointer { out.append($0) }
            }
        }
        return out
    }

    /// One tensor's entry in the header, checked: `bytes` is the data range after the header.
    public struct Entry: Equatable {
        public let name: String
        /// "F32" or "F64".
        public let dtype: String
        public let shape: [Int]
        public let bytes: Range<Int>
    }

    /// The parsed header: entries in name order, metadata, and where the data starts.
    public struct Header {
        public let entries: [Entry]
        public let metadata: [String: String]
        public let dataStart: Int
    }

    /// Parses and checks the header of a file of `fileSize` bytes whose first bytes are `prefix`
    /// (at least the 8-byte length and the header itself, when the file has them).
    public static func header(_ prefix: Data, fileSize: Int, source: String) throws -> Header {
        guard fileSize >= 8, prefix.count >= 8 else {
            throw GradusError("\(source): not a safetensors file (\(fileSize) bytes, expected an 8-byte header length and a JSON header)")
        }
        let n = prefix.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        let first = prefix.count > 8 ? prefix[prefix.startIndex + 8] : 0
        guard first == UInt8(ascii: "{") else {
            throw GradusError("\(source): not a safetensors file (no JSON header after the 8-byte length)")
        }
        guard n <= maxHeaderBytes else {
            throw GradusError("\(source): not a safetensors file (header length \(n) bytes, more than the format's limit of \(maxHeaderBytes))")
        }
        guard n <= UInt64(fileSize - 8) else {
            throw GradusError("\(source): truncated (header of \(n) bytes, file has \(fileSize - 8) after the length)")
        }
        let headerEnd = 8 + Int(n)
        guard prefix.count >= headerEnd else { throw GradusError("\(source): truncated header") }
        let json = prefix.subdata(in: (prefix.startIndex + 8)..<(prefix.startIndex + headerEnd))
        let depth = JSONDepth.maximum(json)
        guard depth <= maxHeaderDepth else {
            throw GradusError("\(source): the safetensors header nests \(depth) levels deep, expected at most \(maxHeaderDepth)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw GradusError("\(source): the safetensors header is not a JSON object")
        }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        let dataSize = fileSize - headerEnd
        for (name, value) in object {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw GradusError("\(source): __metadata__ must map strings to strings") }
                metadata = m
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let rawShape = info["shape"] as? [Any], let rawOffsets = info["data_offsets"] as? [Any] else {
                throw GradusError("\(source): tensor '\(name)' has a malformed header entry (expected dtype, shape and data_offsets)")
            }
            let elementSize = [("F32", 4), ("F64", 8)].first { $0.0 == dtype }?.1
            guard let elementSize else { throw GradusError("\(source): tensor '\(name)' has dtype \(dtype), expected F32 or F64") }
            guard let shape = nonNegativeIntegers(rawShape), shape.count <= 8 else {
                throw GradusError("\(source): tensor '\(name)' has shape \(describe(rawShape)), expected at most 8 non-negative integers")
            }
            guard let offsets = nonNegativeIntegers(rawOffsets), offsets.count == 2, offsets[0] <= offsets[1] else {
                throw GradusError("\(source): tensor '\(name)' has data_offsets \(describe(rawOffsets)), expected [begin, end] with 0 <= begin <= end")
            }
            guard offsets[1] <= dataSize else {
                throw GradusError("\(source): truncated (tensor '\(name)' ends at data byte \(offsets[1]), the file has \(dataSize) after the header)")
            }
            guard let count = Checked.product(shape + [elementSize]), count == offsets[1] - offsets[0] else {
                throw GradusError("\(source): tensor '\(name)' has \(offsets[1] - offsets[0]) bytes for \(dtype) shape \(shape)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, bytes: offsets[0]..<offsets[1]))
        }
        return Header(entries: entries.sorted { $0.name < $1.name }, metadata: metadata, dataStart: headerEnd)
    }

    /// Reads only the header of the file at `path` (the data is not read).
    public static func header(atPath path: String) throws -> Header {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw GradusError("\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { try? handle.close() }
        let size = Int((try? handle.seekToEnd()) ?? 0)
        try? handle.seek(toOffset: 0)
        let lengthBytes = (try? handle.read(upToCount: 9)) ?? Data()
        var prefix = lengthBytes
        if lengthBytes.count == 9 {
            let n = lengthBytes.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            if n <= maxHeaderBytes, n <= UInt64(max(0, size - 8)), n > 0 {
                prefix += (try? handle.read(upToCount: Int(n) - 1)) ?? Data()
            }
        }
        return try header(prefix, fileSize: size, source: path)
    }

    /// Parses a file's bytes; every inconsistency is an error naming `source`.
    public static func decode(_ data: Data, source: String) throws -> Contents {
        let h = try header(data, fileSize: data.count, source: source)
        var contents = Contents(tensors: [:], doubles: [:], metadata: h.metadata)
        for e in h.entries {
            data.withUnsafeBytes { raw in
                let bytes = UnsafeRawBufferPointer(rebasing: raw[(h.dataStart + e.bytes.lowerBound)..<(h.dataStart + e.bytes.upperBound)])
                if e.dtype == "F64" {
                    var values = [Double](repeating: 0, count: e.bytes.count / 8)
                    values.withUnsafeMutableBytes { $0.copyMemory(from: bytes) }
                    contents.doubles[e.name] = Doubles(shape: e.shape, values: values)
                } else {
                    var t = Tensor(shape: e.shape, repeating: 0)
                    t.withUnsafeMutableBuffer { UnsafeMutableRawBufferPointer($0).copyMemory(from: bytes) }
                    contents.tensors[e.name] = t
                }
            }
        }
        return contents
    }

    /// JSON numbers that are exact non-negative integers representable as Int; nil otherwise.
    static func nonNegativeIntegers(_ items: [Any]) -> [Int]? {
        var out: [Int] = []
        for item in items {
            guard let n = item as? NSNumber, !["c", "B"].contains(String(cString: n.objCType)) else { return nil }
            let d = n.doubleValue
            guard d.isFinite, d >= 0, d == d.rounded(), d < 9.0e15 else { return nil }
            // The text may hold more digits than a double; the integer reading must agree.
            guard n.int64Value >= 0, Double(n.int64Value) == d else { return nil }
            out.append(Int(n.int64Value))
        }
        return out
    }

    static func describe(_ items: [Any]) -> String { "[" + items.map { "\($0)" }.joined(separator: ", ") + "]" }
}

/// The maximum nesting of arrays and objects in JSON text, found without parsing it (so that a
/// crafted header cannot exhaust the parser's stack).
enum JSONDepth {
    static func maximum(_ data: Data) -> Int {
        var depth = 0, deepest = 0, inString = false, escaped = false
        for b in data {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1; deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }
}
