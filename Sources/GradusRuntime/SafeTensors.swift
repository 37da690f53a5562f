import Foundation
import GradusCore

/// Reads and writes the safetensors format (float32 only): an 8-byte little-endian header
/// length, a JSON header naming each tensor's dtype, shape and byte range, then the data.
/// Files written here load with Python's `safetensors` package.
public enum SafeTensors {
    /// Serialises `tensors` (name → tensor, written in name order) and string metadata.
    public static func encode(_ tensors: [(String, Tensor)], metadata: [String: String]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let sorted = tensors.sorted { $0.0 < $1.0 }
        for (name, t) in sorted {
            let bytes = t.count * 4
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, t) in sorted { t.withUnsafeBuffer { out.append(UnsafeBufferPointer(start: $0.baseAddress, count: $0.count)) } }
        return out
    }

    /// Parses a file's bytes; every inconsistency is an error naming `source`.
    public static func decode(_ data: Data, source: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard data.count >= 8 else { throw GradusError("\(source): truncated (\(data.count) bytes, expected at least 8)") }
        let n = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n <= UInt64(data.count - 8) else {
            throw GradusError("\(source): truncated (header of \(n) bytes, file has \(data.count - 8) after the length)")
        }
        let headerEnd = 8 + Int(n)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) as? [String: Any] else {
            throw GradusError("\(source): the safetensors header is not a JSON object")
        }
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw GradusError("\(source): __metadata__ must map strings to strings") }
                metadata = m
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw GradusError("\(source): tensor '\(name)' has a malformed header entry")
            }
            guard dtype == "F32" else { throw GradusError("\(source): tensor '\(name)' has dtype \(dtype), expected F32") }
            let count = shape.reduce(1, *)
            guard shape.allSatisfy({ $0 >= 0 }), offsets[1] - offsets[0] == count * 4, offsets[0] >= 0 else {
                throw GradusError("\(source): tensor '\(name)' has \(offsets[1] - offsets[0]) bytes for shape \(shape)")
            }
            guard headerEnd + offsets[1] <= data.count else {
                throw GradusError("\(source): truncated (tensor '\(name)' ends at byte \(headerEnd + offsets[1]), file has \(data.count))")
            }
            var t = Tensor(shape: shape, repeating: 0)
            t.withUnsafeMutableBuffer { dst in
                data.withUnsafeBytes { raw in
                    UnsafeMutableRawBufferPointer(dst).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(headerEnd + offsets[0])..<(headerEnd + offsets[1])]))
                }
            }
            tensors[name] = t
        }
        return (tensors, metadata)
    }
}

/// Writes `data` to `path` atomically: a temporary file in the same folder, fsync, rename.
/// An existing file at `path` is either left untouched or replaced whole.
public func writeAtomically(_ data: Data, to path: String) throws {
    let dir = (path as NSString).deletingLastPathComponent
    let tmp = (dir.isEmpty ? "." : dir) + "/." + (path as NSString).lastPathComponent + ".tmp-\(getpid())"
    guard FileManager.default.createFile(atPath: tmp, contents: nil) , let handle = FileHandle(forWritingAtPath: tmp) else {
        throw GradusError("\(path): cannot create a temporary file in \(dir.isEmpty ? "." : dir)")
    }
    do {
        try handle.write(contentsOf: data)
        try handle.synchronize()
        try handle.close()
    } catch {
        try? FileManager.default.removeItem(atPath: tmp)
        throw GradusError("\(path): write failed: \(error.localizedDescription)")
    }
    guard rename(tmp, path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(atPath: tmp)
        throw GradusError("\(path): rename failed: \(reason)")
    }
}
