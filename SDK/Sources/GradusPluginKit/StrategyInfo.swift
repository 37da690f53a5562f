import CGradusABI

/// Who a strategy is: its stable id, name, version and where its algorithm comes from.
public struct StrategyInfo: Sendable {
    /// Stable id, `vendor.name` in `[a-z0-9_.-]`, e.g. `gradus.adam`.
    public var id: String
    public var displayName: String
    /// The strategy's own version, `MAJOR.MINOR.PATCH`.
    public var version: String
    /// One line.
    public var summary: String
    /// The paper or reference implementation.
    public var reference: String?

    public init(id: String, displayName: String, version: String, summary: String, reference: String? = nil) {
        self.id = id
        self.displayName = displayName
        self.version = version
        self.summary = summary
        self.reference = reference
    }
}

/// What a strategy needs from the host (the `GRADUS_CAP_*` flags).
public struct Capabilities: OptionSet, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let needsLoss = Capabilities(rawValue: UInt64(GRADUS_CAP_NEEDS_LOSS))
    public static let needsClosure = Capabilities(rawValue: UInt64(GRADUS_CAP_NEEDS_CLOSURE))
    public static let needsHVP = Capabilities(rawValue: UInt64(GRADUS_CAP_NEEDS_HVP))
    public static let needsShapes = Capabilities(rawValue: UInt64(GRADUS_CAP_NEEDS_SHAPES))
    public static let needsRoles = Capabilities(rawValue: UInt64(GRADUS_CAP_NEEDS_ROLES))
    public static let matrixOnly = Capabilities(rawValue: UInt64(GRADUS_CAP_MATRIX_ONLY))
    public static let needsGlobalView = Capabilities(rawValue: UInt64(GRADUS_CAP_NEEDS_GLOBAL_VIEW))
    public static let needsActivations = Capabilities(rawValue: UInt64(GRADUS_CAP_NEEDS_ACTIVATIONS))
    public static let needsLinalg = Capabilities(rawValue: UInt64(GRADUS_CAP_NEEDS_LINALG))
    public static let needsRNG = Capabilities(rawValue: UInt64(GRADUS_CAP_NEEDS_RNG))
    public static let needsSnapshot = Capabilities(rawValue: UInt64(GRADUS_CAP_NEEDS_SNAPSHOT))
    public static let decoupledWeightDecay = Capabilities(rawValue: UInt64(GRADUS_CAP_DECOUPLED_WEIGHT_DECAY))
    /// The optimizer evaluates at another point than it trains (ABI 1.2): implement `evaluationPoint`.
    public static let evalPoint = Capabilities(rawValue: UInt64(GRADUS_CAP_EVAL_POINT))
}
