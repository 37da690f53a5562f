import CGradusABI
import Foundation
import GradusCore

/// A host-owned random stream handed to plugins as `gradus_rng_handle`.
public final class HostRandomStream {
    public var stream: RandomStream
    public init(_ stream: RandomStream) { self.stream = stream }
    var handle: gradus_rng_handle { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }
    static func from(_ handle: gradus_rng_handle?) -> HostRandomStream? {
        handle.map { Unmanaged<HostRandomStream>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }
}
