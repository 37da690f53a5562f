import CGradusABI

/// An error a plugin throws; the kit turns it into a frozen status code plus a
/// one-line message sent through the host's `set_error` service. Nothing unwinds
/// across the C boundary.
public enum PluginError: Error, CustomStringConvertible {
    case invalidArgument(String)
    case outOfRange(String)
    case unsupported(String)
    case numeric(String)
    case state(String)
    case version(String)
    case `internal`(String)
    /// A host service failed with this status and already recorded its message; the kit
    /// returns the status without overwriting that message.
    case host(Int32)

    /// The status code the host receives.
    public var status: Int32 {
        switch self {
        case .invalidArgument: return GRADUS_ERR_INVALID_ARGUMENT
        case .outOfRange: return GRADUS_ERR_OUT_OF_RANGE
        case .unsupported: return GRADUS_ERR_UNSUPPORTED
        case .numeric: return GRADUS_ERR_NUMERIC
        case .state: return GRADUS_ERR_STATE
        case .version: return GRADUS_ERR_VERSION
        case .internal: return GRADUS_ERR_INTERNAL
        case .host(let status): return status
        }
    }

    public var description: String {
        switch self {
        case .invalidArgument(let m), .outOfRange(let m), .unsupported(let m), .numeric(let m),
             .state(let m), .version(let m), .internal(let m):
            return m
        case .host(let status): return "host service failed with status \(status)"
        }
    }
}

/// Runs `body`, converting a thrown error into a status reported through `services`.
/// Used by every C thunk of the kit.
@inline(__always)
func reportingErrors(_ services: UnsafePointer<gradus_host_services>?, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return GRADUS_OK
    } catch let error as PluginError {
        if case .host = error { return error.status }
        report(services, error.status, error.description)
        return error.status
    } catch {
        report(services, GRADUS_ERR_INTERNAL, "\(error)")
        return GRADUS_ERR_INTERNAL
    }
}

func report(_ services: UnsafePointer<gradus_host_services>?, _ status: Int32, _ message: String) {
    guard let services, let setError = services.pointee.set_error else { return }
    message.withCString { setError(services.pointee.host, status, $0) }
}
