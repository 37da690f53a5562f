import CGradusABI
import Foundation
import GradusCore

/// A schedule applied to one hyperparameter during a run.
public struct ScheduledHyperparameter {
    public let hyperparameter: String
    public let caller: FunctionCaller
    /// Arguments from the configuration; `step`, `base` and `total_steps` are bound by the run.
    public let arguments: [String: FFIArgument]
    public init(hyperparameter: String, caller: FunctionCaller, arguments: [String: FFIArgument]) {
        self.hyperparameter = hyperparameter; self.caller = caller; self.arguments = arguments
    }
}
