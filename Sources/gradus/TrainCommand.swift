import ArgumentParser
import Foundation
import GradusRuntime

/// `gradus train [CONFIG.yaml] [--set key=value ...]`.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model; with no arguments, an MLP 64-128-10 on the bundled digits set with Adam (lr 1e-3, batch 64, 20 epochs).",
        discussion: "Keys: \(TrainConfigParsing.keys.joined(separator: ", ")). Metrics are printed as JSON Lines, one per epoch.")
    @OptionGroup var plugins: PluginOptions
    @Argument(help: "A YAML configuration file.") var config: String?
    @Option(name: .customLong("set"), help: "Override one key, e.g. --set optimizer.lr=0.01 or --set epochs=5; repeatable.")
    var settings: [String] = []
    @Option(help: "Write a checkpoint here after every epoch, and every checkpoint_every steps when that key is set (atomically: the previous one stays intact until the new one is complete).")
    var checkpoint: String?
    @Option(help: "Continue from this checkpoint (its configuration, weights, buffers, optimizer state, position and RNG), bit-identical to a run that never stopped; --set may raise epochs.")
    var resume: String?

    func run() throws {
        try reportingErrors {
            let saved = try resume.map { try Checkpoint(contentsOf: $0) }
            var cfg = saved?.config ?? TrainConfig()
            if let path = config {
                guard saved == nil else { throw GradusError("give either a configuration file or --resume, not both") }
                guard let data = FileManager.default.contents(atPath: path) else { throw GradusError("\(path): cannot read the file") }
                try TrainConfigParsing.apply(TrainConfigParsing.flatten(yaml: String(decoding: data, as: UTF8.self), source: path), to: &cfg)
            }
            try TrainConfigParsing.apply(parseSettings(settings), to: &cfg)
            let trainer = try Trainer(config: cfg, registry: plugins.registry())
            if let saved { try saved.restore(into: trainer) }
            trainer.checkpointPath = checkpoint
            let bar = ProgressBar()
            if bar.enabled {
                trainer.onBatch = { epoch, done, total, loss in bar.update(epoch: epoch, epochs: cfg.epochs, done: done, total: total, loss: loss) }
            }
            try trainer.run { bar.clear(); print($0.jsonLine); fflush(stdout) }
            let (_, accuracy) = try trainer.evaluate(trainer.test)
            let correct = Int((accuracy * Double(trainer.test.count)).rounded())
            print(String(format: "test accuracy: %.4f (%d/%d) — %@ on %@, %d epochs", accuracy, correct, trainer.test.count,
                         trainer.optimizer.strategy.id, cfg.dataset, trainer.completedEpochs))
        }
    }
}

/// `gradus eval CHECKPOINT`: the test-split loss and accuracy of a checkpoint.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a checkpoint on the test split of its configuration; prints one JSON line.")
    @OptionGroup var plugins: PluginOptions
    @Argument(help: "A checkpoint written by gradus train --checkpoint.") var checkpoint: String

    func run() throws {
        try reportingErrors {
            let saved = try Checkpoint(contentsOf: checkpoint)
            let trainer = try Trainer(config: saved.config, registry: plugins.registry())
            try saved.restore(into: trainer)
            let (loss, accuracy) = try trainer.evaluate(trainer.test)
            print("{\"checkpoint\": \"\(checkpoint)\", \"epoch\": \(saved.epoch), \"step\": \(saved.stepCount), \"test_loss\": \(loss), \"test_accuracy\": \(accuracy)}")
        }
    }
}
