import Foundation

/// One line of metrics per epoch.
public struct EpochMetrics: Sendable {
    public let epoch: Int
    public let trainLoss: Double
    public let testLoss: Double
    public let testAccuracy: Double
    public let seconds: Double
    /// Fraction of masked prunable weights, when the run prunes.
    public let sparsity: Double?

    /// Strict JSON: a non-finite value is written as null.
    public var jsonLine: String {
        var fields = [("epoch", "\(epoch)"), ("train_loss", JSONText.number(trainLoss)), ("test_loss", JSONText.number(testLoss)),
                      ("test_accuracy", JSONText.number(testAccuracy))]
        if let sparsity { fields.append(("sparsity", JSONText.number(sparsity))) }
        fields.append(("seconds", JSONText.number(seconds)))
        return JSONText.object(fields)
    }
}
