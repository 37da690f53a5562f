// libFuzzer target: descriptor validation fed with strategy descriptors that a fake library
// builds from the fuzzer's bytes (struct sizes, kinds, strings, hyperparameter tables, enum
// lists, vtables with missing slots, function signatures). Everything the validator may read
// is allocated here with the sizes the descriptor claims, so any crash is the validator's.
import FuzzSupport
import CGradusABI
@testable import GradusRuntime

/// Consumes the input a little at a time; past the end every read is zero.
struct ByteStream {
    let bytes: [UInt8]
    var at = 0
    var allocations: [UnsafeMutableRawPointer] = []

    mutating func u8() -> UInt8 { defer { at += 1 }; return at < bytes.count ? bytes[at] : 0 }
    mutating func u32() -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(u8()) << (8 * $1) } }
    mutating func u64() -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(u8()) << (8 * $1) } }
    mutating func f64() -> Double { Double(bitPattern: u64()) }

    mutating func zeroed(_ n: Int) -> UnsafeMutableRawPointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1), alignment: 16)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: max(n, 1))
        allocations.append(p)
        return p
    }

    /// A NUL-terminated string of up to 47 bytes, or NULL.
    mutating func string() -> UnsafePointer<CChar>? {
        let n = Int(u8())
        if n == 255 { return nil }
        let length = n % 48
        let p = zeroed(length + 1)
        for k in 0..<length { p.storeBytes(of: u8(), toByteOffset: k, as: UInt8.self) }
        return UnsafePointer(p.assumingMemoryBound(to: CChar.self))
    }

    /// A struct size near `size`: exact, short, long, or absurd.
    mutating func structSize(_ size: Int) -> UInt32 {
        switch u8() % 8 {
        case 0: return 0
        case 1: return UInt32(max(0, size - 8))
        case 2: return UInt32(size + 8)
        case 3: return 7
        default: return UInt32(size)
        }
    }
}

private let dummy: @convention(c) () -> Void = {}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var s = ByteStream(bytes: start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])
    defer { s.allocations.forEach { $0.deallocate() } }
    let descriptorSize = MemoryLayout<gradus_strategy_descriptor>.size
    var d = gradus_strategy_descriptor()
    d.kind = Int32(s.u8() % 6)
    d.id = s.string()
    d.display_name = s.string()
    d.version = s.string()
    d.summary = s.string()
    d.reference = s.string()
    d.capabilities = s.u8() & 1 == 0 ? UInt64(s.u8() & 0x3F) : s.u64()

    // Hyperparameters: every element lives at i × (the first element's struct_size), as the ABI says.
    let hpSize = MemoryLayout<gradus_hyperparameter>.size
    let claimed = s.u8()
    let hpCount = claimed >= 250 ? 300 : Int(claimed % 6)
    d.hyperparameter_count = UInt32(hpCount)
    if hpCount > 0, hpCount <= 6 {
        let stride0 = s.structSize(hpSize)
        let block = s.zeroed(hpCount * (hpSize + 8) + hpSize)
        for i in 0..<hpCount {
            var h = gradus_hyperparameter()
            h.struct_size = i == 0 ? stride0 : s.structSize(hpSize)
            h.id = s.string(); h.name = s.string(); h.doc = s.string()
            h.type = Int32(s.u8() % 7)
            h.flags = s.u8() & 1 == 0 ? UInt32(s.u8() & 0x1F) : s.u32()
            (h.default_f64, h.min_f64, h.max_f64) = (s.f64(), s.f64(), s.f64())
            h.default_i64 = Int64(bitPattern: s.u64()) % (s.u8() & 1 == 0 ? 4 : Int64.max)
            (h.min_i64, h.max_i64) = (Int64(bitPattern: s.u64()), Int64(bitPattern: s.u64()))
            h.default_str = s.string()
            let enumClaim = s.u8()
            let enumCount = enumClaim >= 250 ? 300 : Int(enumClaim % 5)
            h.enum_count = UInt32(enumCount)
            if enumCount > 0, enumCount < 300, s.u8() & 3 != 0 {
                let names = s.zeroed(enumCount * 8).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
                for k in 0..<enumCount { names[k] = s.string() }
                h.enum_values = UnsafePointer(names)
            }
            let offset = i * Int(stride0)
            if offset + hpSize <= hpCount * (hpSize + 8) + hpSize { block.storeBytes(of: h, toByteOffset: offset, as: gradus_hyperparameter.self) }
        }
        d.hyperparameters = s.u8() == 0 ? nil : UnsafePointer(block.assumingMemoryBound(to: gradus_hyperparameter.self))
    }

    // A vtable: header, then pointer-sized slots (function pointers, or the signature for functions).
    if s.u8() != 0 {
        let v = s.zeroed(256)
        v.storeBytes(of: s.structSize(MemoryLayout<gradus_optimizer_vtable>.size), as: UInt32.self)
        let mask = s.u8()
        for slot in 0..<8 where mask & (1 << slot) != 0 {
            v.storeBytes(of: unsafeBitCast(dummy, to: UInt.self), toByteOffset: 8 + 8 * slot, as: UInt.self)
        }
        if d.kind == GRADUS_KIND_FUNCTION {
            v.storeBytes(of: UInt32(MemoryLayout<gradus_function_vtable>.size), as: UInt32.self)
            v.storeBytes(of: s.string(), toByteOffset: 8, as: UnsafePointer<CChar>?.self)
        }
        d.vtable = UnsafeRawPointer(v)
    }

    let raw = s.zeroed(descriptorSize + 8)
    d.struct_size = s.structSize(descriptorSize)
    raw.storeBytes(of: d, as: gradus_strategy_descriptor.self)
    raw.storeBytes(of: d.struct_size, as: UInt32.self)
    _ = try? DescriptorValidation.strategy(UnsafePointer(raw.assumingMemoryBound(to: gradus_strategy_descriptor.self)), index: 0,
                                           file: "fuzz.so", abiVersion: "1.0")
    return 0
}

/// The executable's entry (SwiftPM links `main` to this symbol): libFuzzer's driver.
@_cdecl("fuzz_Descriptor_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { fuzzOne($0, $1) }
}
