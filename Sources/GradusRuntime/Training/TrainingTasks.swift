/// A task: a named preset of dataset, model, loss and metric that `gradus train --task NAME`
/// starts from (every key can still be changed with `--set`) and that `gradus compare --task`
/// compares optimizers on. `gradus tasks` lists them.
public struct TrainingTask: Sendable {
    public let name: String
    public let summary: String
    /// The metric the task is judged by, and a value a good configuration reaches (with the
    /// preset's own settings unless `targetNote` says otherwise).
    public let metric: String
    public let target: String
    public let targetNote: String
    /// The preset, applied over the defaults and before a configuration file or `--set`.
    public let settings: [(String, String)]

    public static let all: [TrainingTask] = [
        TrainingTask(name: "digits-mlp", summary: "MLP 64-128-10 on the bundled 8×8 digits with Adam (the default job)",
                     metric: "test_accuracy", target: "0.95", targetNote: "0.9721 after the default 20 epochs", settings: []),
        TrainingTask(name: "digits-lenet", summary: "LeNet-style CNN (3×3 convolutions 16, 32; dense 128) on the 8×8 digits",
                     metric: "test_accuracy", target: "0.95", targetNote: "", settings: [("model.arch", "lenet")]),
        TrainingTask(name: "digits-resnet", summary: "ResNet (stem and two stages of one basic block, 16 and 32 channels, BatchNorm) on the 8×8 digits",
                     metric: "test_accuracy", target: "0.95", targetNote: "",
                     settings: [("model.arch", "resnet"), ("model.channels", "16,32"), ("model.blocks", "1"), ("normalizer", "batchnorm")]),
        TrainingTask(name: "modular_addition",
                     summary: "a + b mod 97 as the sequence [a, b, =] (Power et al. 2022), half the 9409 pairs for training; a 1-block transformer (d_model 128, 4 heads, pre-LN without a normalizer unless one is set) with AdamW, weight decay 1 — the grokking setting, where weight decay and the optimizer decide whether the model generalises",
                     metric: "test_accuracy", target: "0.99", targetNote: "seed 0: first at epoch 433, 1.0 at epoch 800; the test accuracy stays low long after the training loss falls (grokking)",
                     settings: [("dataset", "modular_addition"), ("test_fraction", "0.5"), ("model.arch", "transformer"), ("model.layers", "1"),
                                ("model.d_model", "128"), ("model.heads", "4"), ("optimizer", "adamw"), ("optimizer.lr", "0.001"),
                                ("optimizer.weight_decay", "1"), ("optimizer.beta2", "0.98"), ("batch_size", "512"), ("epochs", "800")]),
    ]

    public static var names: [String] { all.map(\.name) }

    /// The task called `name`, or an error listing them.
    public static func named(_ name: String) throws -> TrainingTask {
        guard let task = all.first(where: { $0.name == name }) else {
            throw GradusError("--task \(name): unknown task (expected one of: \(names.joined(separator: ", ")))")
        }
        return task
    }
}
