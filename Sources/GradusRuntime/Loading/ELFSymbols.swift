import Foundation

/// Reads an ELF shared object's dynamic symbol table without loading it, so the host can skip a
/// library that does not export the plugin entry before `dlopen` runs any of its code
/// (constructors of an unrelated system library in a plugin folder can kill the process).
/// Every offset and size comes from the file and is bounds-checked before use.
public enum ELFSymbols {
    /// Files larger than this are not plugins the host will read.
    static let maxFileBytes = 1 << 30

    /// Checks that `bytes` is a 64-bit little-endian ELF shared object; returns the defined
    /// global or weak function symbols of its `.dynsym`, or throws one line saying why not.
    public static func exportedFunctions(_ bytes: [UInt8]) throws -> Set<String> {
        guard bytes.count >= 64, bytes[0] == 0x7F, bytes[1] == 0x45, bytes[2] == 0x4C, bytes[3] == 0x46 else {
            throw GradusError("not a shared library (no ELF header)")
        }
        guard bytes[4] == 2 else { throw GradusError("a 32-bit ELF file, expected a 64-bit shared object") }
        guard bytes[5] == 1 else { throw GradusError("a big-endian ELF file, expected little-endian") }
        let type = u16(bytes, 16)!
        guard type == 3 else { throw GradusError("ELF file of type \(type), expected a shared object (type 3)") }
        guard let shoff = u64(bytes, 0x28), let shentsize = u16(bytes, 0x3A), let shnum = u16(bytes, 0x3C),
              shnum > 0, shentsize >= 64 else {
            throw GradusError("ELF file without section headers; cannot confirm it exports the plugin entry")
        }
        func section(_ i: Int) -> (type: UInt32, offset: UInt64, size: UInt64, link: UInt32, entsize: UInt64)? {
            let (base, o) = UInt64(i).multipliedReportingOverflow(by: UInt64(shentsize))
            guard !o else { return nil }
            let (start, o2) = shoff.addingReportingOverflow(base)
            guard !o2, start <= UInt64(Int.max), let t = u32(bytes, start + 4), let off = u64(bytes, start + 0x18),
                  let size = u64(bytes, start + 0x20), let link = u32(bytes, start + 0x28), let ent = u64(bytes, start + 0x38) else { return nil }
            return (t, off, size, link, ent)
        }
        var exported: Set<String> = []
        for i in 0..<Int(shnum) {
            guard let s = section(i) else { throw GradusError("ELF section header \(i) lies outside the file") }
            guard s.type == 11 else { continue }  // SHT_DYNSYM
            guard s.entsize >= 24, let strings = section(Int(s.link)), strings.type == 3,
                  inFile(bytes, s.offset, s.size), inFile(bytes, strings.offset, strings.size) else {
                throw GradusError("ELF .dynsym section \(i) is malformed")
            }
            let count = s.size / s.entsize
            for k in 0..<count {
                let at = s.offset + k * s.entsize
                guard let name = u32(bytes, at), let info = u8(bytes, at + 4), let shndx = u16(bytes, at + 6) else { break }
                let binding = info >> 4, kind = info & 0xF
                guard shndx != 0, binding == 1 || binding == 2, kind == 2, UInt64(name) < strings.size else { continue }
                var end = Int(strings.offset) + Int(name)
                let limit = Int(strings.offset + strings.size)
                let begin = end
                while end < limit, bytes[end] != 0 { end += 1 }
                exported.insert(String(decoding: bytes[begin..<end], as: UTF8.self))
            }
        }
        return exported
    }

    /// Reads `file` and checks it exports `symbol` as a defined function; one line when not.
    public static func requireExport(_ symbol: String, in file: String) throws {
        var st = stat()
        guard stat(file, &st) == 0 else { throw GradusError("cannot open: \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) != S_IFDIR else { throw GradusError("is a directory, not a plugin library") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw GradusError("is not a regular file, not a plugin library") }
        guard st.st_size <= maxFileBytes else { throw GradusError("\(st.st_size) bytes, more than a plugin library may have (\(maxFileBytes))") }
        guard let data = FileManager.default.contents(atPath: file) else { throw GradusError("cannot read: \(String(cString: strerror(errno)))") }
        guard try exportedFunctions([UInt8](data)).contains(symbol) else {
            throw GradusError("no '\(symbol)' symbol: not a Gradus plugin, or one built for another ABI major")
        }
    }

    static func inFile(_ b: [UInt8], _ offset: UInt64, _ size: UInt64) -> Bool {
        let (end, o) = offset.addingReportingOverflow(size)
        return !o && end <= UInt64(b.count)
    }
    static func u8(_ b: [UInt8], _ at: UInt64) -> UInt8? { at < UInt64(b.count) ? b[Int(at)] : nil }
    static func u16(_ b: [UInt8], _ at: UInt64) -> UInt16? { read(b, at, 2).map { UInt16($0) } }
    static func u32(_ b: [UInt8], _ at: UInt64) -> UInt32? { read(b, at, 4).map { UInt32($0) } }
    static func u64(_ b: [UInt8], _ at: UInt64) -> UInt64? { read(b, at, 8) }
    static func read(_ b: [UInt8], _ at: UInt64, _ n: Int) -> UInt64? {
        guard inFile(b, at, UInt64(n)) else { return nil }
        var v: UInt64 = 0
        for k in (0..<n).reversed() { v = v << 8 | UInt64(b[Int(at) + k]) }
        return v
    }
}
