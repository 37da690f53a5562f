import Foundation
import GradusNN

/// Everything a training run needs; the defaults are the built-in digits job
/// (MLP 64-128-10, Adam lr 1e-3, batch 64, 20 epochs, 80/20 split, seed 0).
public struct TrainConfig {
    /// "digits", or a path to a .csv, .npy or IDX file (see `labels`).
    public var dataset = "digits"
    /// The labels file for NPY and IDX features (an integer array with one entry per row).
    public var labels: String?
    /// "mlp", "lenet" (a small CNN, for image data), "resnet" (image data) or "transformer" (for
    /// token datasets).
    public var arch = "mlp"
    /// Dense hidden layer sizes (the MLP's, or the CNN's head after the convolutions).
    public var hidden: [Int] = [128]
    /// Convolution channels of "lenet", one 3×3 conv block (+ 2×2 max pooling) each.
    public var channels: [Int] = [16, 32]
    /// The transformer's blocks, width, attention heads, normalization placement and head tying
    /// (`model.arch=transformer`; its context is the dataset's sequence length and its vocabulary
    /// the dataset's).
    public var layers = 2
    public var dModel = 128
    public var heads = 4
    public var normPlacement = NormPlacement.pre
    public var tieWeights = false
    /// Residual blocks per stage of `model.arch=resnet` (one stage per `channels` entry), and
    /// whether each block's branch is scaled by a ReZero gate that starts at 0.
    public var blocks = 1
    public var rezero = false
    /// Dropout probability after each hidden dense layer (0: none).
    public var dropout = 0.0
    /// A normalizer plugin id filling the normalization slots (after each hidden Linear or
    /// convolution), and its hyperparameters; nil: no normalization.
    public var normalizer: String?
    public var normalizerSettings: [(String, String)] = []
    /// Which form of the normalizer runs (auto: the kernel form unless the optimizer needs HVPs).
    public var normalizerForm = NormalizerForm.auto
    public var optimizer = "adam"
    /// Optimizer hyperparameters as text, validated against the plugin's schema (Adam's own default lr is 1e-3).
    public var optimizerSettings: [(String, String)] = []
    /// Per-group overrides (selector, hyperparameter, value): parameters whose role matches the
    /// selector ("bias", "norm", "norm_gain", "norm_bias", "matrix", "head", "embedding",
    /// "vector") form their own group, e.g. ("bias", "weight_decay", "0").
    public var groupSettings: [(selector: String, hyperparameter: String, value: String)] = []
    /// Hyperparameter schedules: (hyperparameter, function plugin id, arguments as text).
    public var schedules: [(hyperparameter: String, function: String, arguments: [(String, String)])] = []
    /// Routes: parameters whose role matches `selector` (the `param_groups` selectors) are stepped
    /// by their own optimizer with its own hyperparameters and state, e.g. ("matrix", "muon",
    /// [("lr", "0.02")]) for Muon on hidden matrices and the main optimizer for the rest. The first
    /// matching route, in configuration order, takes a parameter.
    public var routes: [(selector: String, optimizer: String, settings: [(String, String)])] = []
    /// Scale every gradient by min(1, τ/(‖g‖ + 1e-6)), ‖g‖ the 2-norm over all parameters, before the
    /// optimizers step (torch.nn.utils.clip_grad_norm_); 0: no clipping.
    public var clipGradNorm = 0.0
    /// Micro-batches of `batchSize` rows whose gradients are averaged (weighted by rows) into one
    /// optimizer step: batch_size=32, accumulate_steps=2 steps like batch_size=64 with half the memory.
    public var accumulateSteps = 1
    /// The rows one optimizer step consumes.
    public var stepRows: Int { batchSize * accumulateSteps }
    public var epochs = 20
    public var batchSize = 64
    public var seed: UInt64 = 0
    public var testFraction = 0.2
    /// When > 0, this fraction of the training split is held out (seeded, its own stream) and
    /// evaluated instead of the test split, which the run then never reads: what tuning runs use.
    public var validationFraction = 0.0
    /// A pruner plugin id (nil: no pruning) and its hyperparameters; `sparsity` is the final target.
    public var pruner: String?
    public var prunerSettings: [(String, String)] = []
    /// Pruning events happen at the end of epochs start...end, following Zhu & Gupta's cubic ramp;
    /// the end defaults to half the epochs. Events past the last epoch of a run do not happen.
    public var pruneStartEpoch = 1
    public var pruneEndEpoch: Int?
    var pruneEnd: Int { pruneEndEpoch ?? max(pruneStartEpoch, epochs / 2) }
    /// "standardize": z-score every feature with the training split's statistics; "none": raw features.
    public var normalize = "standardize"
    /// Also write the checkpoint every this many optimizer steps (0: only at the end of epochs).
    public var checkpointEvery = 0
    public init() {}
}

