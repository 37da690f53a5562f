import CGradusABI

/// Memory for descriptor data that must live as long as the library is loaded.
/// Plugins are never unloaded, so this storage is intentionally never freed.
enum Permanent {
    /// A NUL-terminated copy of `string` that is never freed.
    static func cString(_ string: String) -> UnsafePointer<CChar> {
        let utf8 = Array(string.utf8CString)
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count)
        buffer.initialize(from: utf8, count: utf8.count)
        return UnsafePointer(buffer)
    }

    static func optionalCString(_ string: String?) -> UnsafePointer<CChar>? {
        string.map(cString)
    }

    /// A never-freed array holding `values`.
    static func array<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let buffer = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
        buffer.initialize(from: values, count: values.count)
        return buffer
    }

    /// A never-freed single value.
    static func value<T>(_ value: T) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: 1)
        pointer.initialize(to: value)
        return pointer
    }
}

/// The header every ABI struct starts with, for a struct of type `T`.
@inline(__always)
func abiSize<T>(_: T.Type) -> UInt32 { UInt32(MemoryLayout<T>.size) }

/// Element `index` of an ABI array whose elements carry their own `struct_size` (the stride).
@inline(__always)
func abiElement<T>(_ base: UnsafePointer<T>, _ index: Int, stride: UInt32) -> UnsafePointer<T> {
    UnsafeRawPointer(base).advanced(by: index * Int(stride)).assumingMemoryBound(to: T.self)
}
