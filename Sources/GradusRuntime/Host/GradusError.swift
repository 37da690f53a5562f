/// Every error the runtime reports: one line naming the thing, the value and what was expected.
public struct GradusError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
