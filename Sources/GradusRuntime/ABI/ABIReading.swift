import CGradusABI

/// Reads ABI structs written by a plugin without ever reading past their `struct_size`.
enum ABIRead {
    /// Copies a struct of type `T` from `pointer`, honouring the writer's `struct_size`:
    /// bytes past it read as zero; a size below `minimum` (the size in ABI 1.0) is rejected.
    static func copy<T>(_ pointer: UnsafeRawPointer, as _: T.Type, minimum: Int? = nil,
                        what: String) throws -> T {
        let minimum = minimum ?? sizeInABI10(T.self)
        let declared = Int(pointer.load(as: UInt32.self))
        guard declared >= minimum else {
            throw GradusError("\(what) has struct_size \(declared), expected at least \(minimum) (ABI 1.0)")
        }
        guard declared <= 1 << 20 else {
            throw GradusError("\(what) has implausible struct_size \(declared)")
        }
        let size = MemoryLayout<T>.size
        let result = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<T>.alignment)
        defer { result.deallocate() }
        result.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        result.copyMemory(from: pointer, byteCount: min(declared, size))
        return result.load(as: T.self)
    }

    /// A struct's size in ABI 1.0 (Fixtures/abi_layout_v1_0.txt), the least a plugin may declare:
    /// fields appended by later minors read as zero from plugins built before them.
    static func sizeInABI10<T>(_: T.Type) -> Int {
        if T.self == gradus_optimizer_vtable.self { return MemoryLayout<gradus_optimizer_vtable>.offset(of: \.slot_shape)! }
        if T.self == gradus_param.self { return MemoryLayout<gradus_param>.offset(of: \.scalars)! }
        if T.self == gradus_host_services.self { return MemoryLayout<gradus_host_services>.offset(of: \.svd)! }
        return MemoryLayout<T>.size
    }

    /// A C string the plugin must provide, limited to `limit` bytes.
    static func string(_ p: UnsafePointer<CChar>?, _ what: String, limit: Int = 4096) throws -> String {
        guard let p else { throw GradusError("\(what) is NULL") }
        return try boundedString(p, what, limit: limit)
    }

    /// An optional C string.
    static func optionalString(_ p: UnsafePointer<CChar>?, _ what: String, limit: Int = 4096) throws -> String? {
        guard let p else { return nil }
        return try boundedString(p, what, limit: limit)
    }

    private static func boundedString(_ p: UnsafePointer<CChar>, _ what: String, limit: Int) throws -> String {
        var n = 0
        while p[n] != 0 {
            n += 1
            if n > limit { throw GradusError("\(what) is longer than \(limit) bytes (missing terminator?)") }
        }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: n)
        guard let s = String(validating: bytes, as: UTF8.self) else { throw GradusError("\(what) is not valid UTF-8") }
        return s
    }

    /// Element `i` of an ABI array whose stride is the first element's struct_size.
    static func element<T>(_ base: UnsafePointer<T>, _ i: Int, stride: Int) -> UnsafeRawPointer {
        UnsafeRawPointer(base).advanced(by: i * stride)
    }
}

/// Writes ABI structs the host owns: zeroed, with the header filled in.
enum ABIWrite {
    static func header<T>(_ value: inout T) {
        withUnsafeMutableBytes(of: &value) { raw in
            raw.storeBytes(of: UInt32(MemoryLayout<T>.size), as: UInt32.self)
            raw.storeBytes(of: UInt32(GRADUS_ABI_MINOR), toByteOffset: 4, as: UInt32.self)
        }
    }
}
