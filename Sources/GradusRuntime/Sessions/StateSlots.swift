import CGradusABI
import Foundation
import GradusCore

/// One declared optimizer state slot.
public struct StateSlotSpec: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// The parameter's shape (`GRADUS_SLOT_LIKE_PARAM`).
        case likeParameter
        /// One float (`GRADUS_SLOT_SCALAR`).
        case scalar
        /// One double (`GRADUS_SLOT_SCALAR_F64`, ABI 1.1): exact counters.
        case exactScalar
        /// A tensor whose shape the plugin gives per parameter (`GRADUS_SLOT_SHAPED`, ABI 1.2).
        case shaped
    }
    public let name: String
    public let kind: Kind
    /// Zeroed where a pruning mask is zero (parameter-shaped slots only).
    public let masked: Bool
    public let initial: Double
    public var likeParameter: Bool { kind == .likeParameter }
}

/// The saved value of one slot of one parameter.
public enum SlotValue: Equatable, Sendable {
    case floats([Float])
    case exact(Double)
}
