import Foundation

/// Writes TensorBoard event files: a TFRecord stream (each record: its length as a little-endian
/// UInt64, the masked CRC-32C of those 8 bytes, the payload, the payload's masked CRC-32C) of
/// `Event` protocol buffers, the first naming the file version, the others holding scalar
/// summaries. Only the fields scalars need are encoded (tensorflow/core/util/event.proto and
/// framework/summary.proto: Event.wall_time = 1, step = 2, file_version = 3, summary = 5;
/// Summary.value = 1; Value.tag = 1, simple_value = 2). Each event goes to the file as it is
/// written (no buffering in the process), so a running TensorBoard sees the run as it goes.
public final class TensorBoardWriter {
    public let path: String
    private let handle: FileHandle

    /// Creates `directory` when missing and a new event file in it.
    public init(directory: String) throws {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw GradusError("--tensorboard \(directory): cannot create the folder: \(error.localizedDescription)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw GradusError("--tensorboard \(directory): is not a folder")
        }
        let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "/", with: "_")
        let name = "events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host).\(getpid()).gradus"
        path = (directory as NSString).appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw GradusError("--tensorboard \(directory): cannot create \(name)")
        }
        self.handle = handle
        try write(event(wallTime: Date().timeIntervalSince1970, step: 0, body: Protobuf.bytes(3, Array("brain.Event:2".utf8))))
    }

    deinit { try? handle.close() }

    /// One event holding a scalar summary per value (non-finite values are written as they are:
    /// TensorBoard shows NaN and Inf).
    public func scalars(step: Int64, _ values: [(String, Double)], wallTime: Double = Date().timeIntervalSince1970) throws {
        let summary = values.flatMap { tag, value in
            Protobuf.bytes(1, Protobuf.bytes(1, Array(tag.utf8)) + Protobuf.fixed32(2, Float(value).bitPattern))
        }
        try write(event(wallTime: wallTime, step: step, body: Protobuf.bytes(5, summary)))
    }

    func event(wallTime: Double, step: Int64, body: [UInt8]) -> [UInt8] {
        Protobuf.fixed64(1, wallTime.bitPattern) + Protobuf.varint(2, UInt64(bitPattern: step)) + body
    }

    func write(_ payload: [UInt8]) throws {
        let length = withUnsafeBytes(of: UInt64(payload.count).littleEndian, Array.init)
        var record = length
        record += withUnsafeBytes(of: TensorBoardWriter.maskedCRC(length).littleEndian, Array.init)
        record += payload
        record += withUnsafeBytes(of: TensorBoardWriter.maskedCRC(payload).littleEndian, Array.init)
        do {
            try handle.write(contentsOf: record)  // unbuffered: a reader sees the event at once
        } catch {
            throw GradusError("\(path): cannot write the TensorBoard event: \(error.localizedDescription)")
        }
    }

    /// TFRecord's checksum: CRC-32C rotated right by 15 bits plus 0xa282ead8.
    static func maskedCRC(_ bytes: [UInt8]) -> UInt32 {
        let crc = crc32c(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven.
    static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = crcTable[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    static let crcTable: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }
}

/// The few protocol-buffer encodings event files need.
enum Protobuf {
    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
        return out
    }

    static func key(_ field: Int, _ wireType: UInt64) -> [UInt8] { varint(UInt64(field) << 3 | wireType) }
    static func varint(_ field: Int, _ value: UInt64) -> [UInt8] { key(field, 0) + varint(value) }
    static func fixed64(_ field: Int, _ bits: UInt64) -> [UInt8] { key(field, 1) + withUnsafeBytes(of: bits.littleEndian, Array.init) }
    static func bytes(_ field: Int, _ payload: [UInt8]) -> [UInt8] { key(field, 2) + varint(UInt64(payload.count)) + payload }
    static func fixed32(_ field: Int, _ bits: UInt32) -> [UInt8] { key(field, 5) + withUnsafeBytes(of: bits.littleEndian, Array.init) }
}
