import Foundation

/// One line of metrics per epoch.
public struct EpochMetrics: Sendable {
    public let epoch: Int
    /// Optimizer steps taken by the end of the epoch (since the start of the run).
    public let step: Int64
    public let trainLoss: Double
    /// Loss and accuracy on the held-out split: the test split, or the validation split when the
    /// run holds one out (`validation_fraction`), as `split` says.
    public let testLoss: Double
    public let testAccuracy: Double
    /// "test" or "val": the prefix of the held-out metrics' names.
    public let split: String
    /// Wall time of the epoch's training steps (without evaluation), and of the whole epoch.
    public let trainSeconds: Double?
    public let seconds: Double
    /// Fraction of masked prunable weights, when the run prunes.
    public let sparsity: Double?

    public init(epoch: Int, step: Int64 = 0, trainLoss: Double, testLoss: Double, testAccuracy: Double, split: String = "test",
                trainSeconds: Double? = nil, seconds: Double, sparsity: Double?) {
        (self.epoch, self.step, self.trainLoss, self.testLoss, self.testAccuracy) = (epoch, step, trainLoss, testLoss, testAccuracy)
        (self.split, self.trainSeconds, self.seconds, self.sparsity) = (split, trainSeconds, seconds, sparsity)
    }

    /// The metrics by name, in line order (what the experiment database stores).
    public var values: [(String, Double)] {
        var fields = [("train_loss", trainLoss), ("\(split)_loss", testLoss), ("\(split)_accuracy", testAccuracy)]
        if let sparsity { fields.append(("sparsity", sparsity)) }
        if let trainSeconds { fields.append(("train_seconds", trainSeconds)) }
        fields.append(("seconds", seconds))
        return fields
    }

    /// Strict JSON: a non-finite value is written as null.
    public var jsonLine: String {
        JSONText.object([("epoch", "\(epoch)"), ("step", "\(step)")] + values.map { ($0.0, JSONText.number($0.1)) })
    }
}
