import Foundation
import GradusCore

/// An n-dimensional numeric array read from an IDX or NPY file, as doubles.
struct NumericArray {
    let shape: [Int]
    let values: [Double]
    /// Whether the element type was an integer type (labels must be).
    let integral: Bool
    /// Whether the elements were unsigned bytes (pixels in 0...255).
    let bytes: Bool
}

/// Readers for MNIST's IDX format and NumPy's NPY format. Every error names the file and
/// what was expected; truncated files are detected from the declared shape.
enum ArrayFiles {
    /// The element count of `shape`, or an error when it cannot fit in memory.
    static func count(_ shape: [Int], _ path: String) throws -> Int {
        guard let n = Checked.product(shape, limit: 1 << 34) else {
            throw GradusError("\(path): shape \(shape) is too large (over 2^34 elements)")
        }
        return n
    }

    static func read(_ path: String) throws -> NumericArray {
        let data = try TextFiles.readRegularFile(path, what: "array file")
        let b = [UInt8](data)
        if b.starts(with: [0x1f, 0x8b]) { throw GradusError("\(path): gzip-compressed; decompress it first (gunzip \(path))") }
        if b.starts(with: [0x93] + Array("NUMPY".utf8)) { return try npy(b, path) }
        if b.count >= 4, b[0] == 0, b[1] == 0 { return try idx(b, path) }
        throw GradusError("\(path): not an IDX or NPY file (expected the magic 00 00 <type> <rank> or \\x93NUMPY)")
    }

    /// IDX: 00 00, element type, rank, big-endian u32 sizes, big-endian elements.
    static func idx(_ b: [UInt8], _ path: String) throws -> NumericArray {
        let types: [UInt8: (size: Int, integral: Bool)] = [0x08: (1, true), 0x09: (1, true), 0x0B: (2, true), 0x0C: (4, true),
                                                          0x0D: (4, false), 0x0E: (8, false)]
        guard let type = types[b[2]] else { throw GradusError("\(path): IDX element type 0x\(String(b[2], radix: 16)) is not one of 08 09 0B 0C 0D 0E") }
        let rank = Int(b[3])
        guard rank >= 1, b.count >= 4 + 4 * rank else { throw GradusError("\(path): IDX header of rank \(rank) is truncated") }
        let shape = (0..<rank).map { d in (0..<4).reduce(0) { $0 << 8 | Int(b[4 + 4 * d + $1]) } }
        let count = try count(shape, path), start = 4 + 4 * rank
        guard b.count == start + count * type.size else {
            throw GradusError("\(path): IDX shape \(shape) needs \(start + count * type.size) bytes, the file has \(b.count)")
        }
        var values = [Double](repeating: 0, count: count)
        for i in 0..<count {
            let o = start + i * type.size
            var word: UInt64 = 0
            for k in 0..<type.size { word = word << 8 | UInt64(b[o + k]) }
            switch b[2] {
            case 0x08: values[i] = Double(word)
            case 0x09: values[i] = Double(Int8(bitPattern: UInt8(word)))
            case 0x0B: values[i] = Double(Int16(bitPattern: UInt16(word)))
            case 0x0C: values[i] = Double(Int32(bitPattern: UInt32(word)))
            case 0x0D: values[i] = Double(Float(bitPattern: UInt32(word)))
            default: values[i] = Double(bitPattern: word)
            }
        }
        return NumericArray(shape: shape, values: values, integral: type.integral, bytes: b[2] == 0x08)
    }

    /// NPY versions 1–3: a Python-literal header with descr, fortran_order and shape.
    static func npy(_ b: [UInt8], _ path: String) throws -> NumericArray {
        guard b.count >= 10 else { throw GradusError("\(path): NPY header is truncated") }
        let major = b[6]
        let lengthBytes = major == 1 ? 2 : 4
        guard (1...3).contains(major), b.count >= 8 + lengthBytes else { throw GradusError("\(path): NPY version \(major) is not 1, 2 or 3") }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(b[8 + $1]) << (8 * $1) }
        let start = 8 + lengthBytes + headerLength
        guard b.count >= start, let header = String(bytes: b[(8 + lengthBytes)..<start], encoding: .utf8) else {
            throw GradusError("\(path): NPY header is truncated")
        }
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingWhitespace
        }
        guard let descrText = field("descr"), descrText.hasPrefix("'"),
              let descr = descrText.dropFirst().split(separator: "'").first.map(String.init) else {
            throw GradusError("\(path): NPY header has no 'descr'")
        }
        guard field("fortran_order")?.hasPrefix("False") == true else {
            throw GradusError("\(path): NPY array is in Fortran order; save it with numpy.ascontiguousarray first")
        }
        guard let shapeText = field("shape"), shapeText.hasPrefix("("), let close = shapeText.firstIndex(of: ")") else {
            throw GradusError("\(path): NPY header has no 'shape'")
        }
        let dims = shapeText[shapeText.index(after: shapeText.startIndex)..<close].split(separator: ",").map { Int($0.trimmingWhitespace) }
        guard !dims.isEmpty, dims.allSatisfy({ ($0 ?? -1) >= 0 }) else { throw GradusError("\(path): NPY shape \(shapeText[...close]) is not a tuple of sizes") }
        let shape = dims.map { $0! }
        let order = descr.first, kind = descr.dropFirst().first, size = Int(descr.dropFirst(2)) ?? 0
        let known: Set<String> = ["f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]
        guard let order, ["<", ">", "|", "="].contains(order), let kind, known.contains("\(kind)\(size)") else {
            throw GradusError("\(path): NPY dtype '\(descr)' is not a float32/64 or integer type")
        }
        let count = try count(shape, path)
        guard b.count == start + count * size else {
            throw GradusError("\(path): NPY shape \(shape) of \(descr) needs \(start + count * size) bytes, the file has \(b.count)")
        }
        var values = [Double](repeating: 0, count: count)
        for i in 0..<count {
            let o = start + i * size
            var word: UInt64 = 0
            for k in 0..<size { word |= UInt64(b[o + (order == ">" ? size - 1 - k : k)]) << (8 * k) }
            switch (kind, size) {
            case ("f", 4): values[i] = Double(Float(bitPattern: UInt32(word)))
            case ("f", 8): values[i] = Double(bitPattern: word)
            case ("u", _): values[i] = Double(word)
            default:  // signed: sign-extend
                let shift = UInt64(64 - 8 * size)
                values[i] = Double(Int64(bitPattern: word << shift) >> Int64(shift))
            }
        }
        return NumericArray(shape: shape, values: values, integral: kind != "f", bytes: descr.dropFirst() == "u1")
    }
}

extension Dataset {
    /// "digits", "modular_addition[:P]", a .csv file, or an IDX/NPY file of features with `labels`
    /// naming the labels file.
    public static func load(_ spec: String, labels: String?) throws -> Dataset {
        if spec == "digits" { return try digits() }
        if let p = try ModularArithmetic.modulus(spec) { return try ModularArithmetic.addition(modulus: p) }
        guard FileManager.default.fileExists(atPath: spec) else {
            throw GradusError("dataset=\(spec): no such file (expected 'digits', 'modular_addition[:P]', a .csv file, or an IDX/NPY file with labels=PATH)")
        }
        if spec.hasSuffix(".csv") { return try csv(path: spec) }
        guard let labels else {
            throw GradusError("dataset=\(spec): IDX and NPY features need a labels file (set labels=PATH); expected 'digits', a .csv file, or an IDX/NPY file")
        }
        return try arrays(features: spec, labels: labels)
    }

    /// Features [N, ...] and labels [N] from IDX or NPY files. Unsigned-byte features (pixels)
    /// are scaled to [0, 1]; [N, H, W] is read as grey images and [N, C, H, W] as C-channel images.
    public static func arrays(features: String, labels: String) throws -> Dataset {
        let x = try ArrayFiles.read(features), y = try ArrayFiles.read(labels)
        guard x.shape.count >= 2 else { throw GradusError("\(features): shape \(x.shape), expected [N, features...] with rank >= 2") }
        guard y.shape.count == 1, y.shape[0] == x.shape[0] else {
            throw GradusError("\(labels): shape \(y.shape), expected [\(x.shape[0])] (one label per row of \(features))")
        }
        if let bad = y.values.first(where: { $0 < 0 || $0 != $0.rounded() || $0 > Double(Dataset.maxLabel) }) {
            throw GradusError("\(labels): label \(bad) is not an integer in 0...\(Dataset.maxLabel)")
        }
        if let bad = x.values.first(where: { !$0.isFinite }) { throw GradusError("\(features): value \(bad) is not finite") }
        guard x.shape[0] >= 1 else { throw GradusError("\(features): shape \(x.shape) has no rows") }
        let d = try ArrayFiles.count(Array(x.shape.dropFirst()), features)
        let image: [Int]? = x.shape.count == 3 ? [1, x.shape[1], x.shape[2]] : x.shape.count == 4 ? Array(x.shape.dropFirst()) : nil
        let scale = x.bytes ? 1.0 / 255 : 1
        return try Dataset(name: (features as NSString).lastPathComponent,
                           features: Tensor(shape: [x.shape[0], d], scalars: x.values.map { Float($0 * scale) }),
                           labels: y.values.map { Int($0) }, imageShape: image)
    }
}
