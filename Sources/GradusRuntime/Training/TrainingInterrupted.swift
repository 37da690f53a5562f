/// Training stopped between two batches because the process received SIGINT or SIGTERM; the
/// checkpoint, when the run has one, holds the position reached and resumes bit-identically.
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public let signal: Int32
    public let epoch: Int
    public let batch: Int
    public let batchesPerEpoch: Int
    public let step: Int64
    public let checkpoint: String?

    public var description: String {
        let saved = checkpoint.map { "; \($0) holds this position (resume with --resume \($0))" } ?? "; no --checkpoint was given, nothing was saved"
        let position = batch == 0 ? "after epoch \(epoch - 1)" : "in epoch \(epoch) after batch \(batch)/\(batchesPerEpoch)"
        return "interrupted by \(HostSignals.name(signal)) \(position) (step \(step))\(saved)"
    }

    /// The conventional exit status for death by this signal (130 for SIGINT, 143 for SIGTERM).
    public var exitStatus: Int32 { 128 + signal }
}
