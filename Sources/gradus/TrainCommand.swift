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

    func run() throws {
        try reportingErrors {
            var cfg = TrainConfig()
            if let path = config {
                guard let data = FileManager.default.contents(atPath: path) else { throw GradusError("\(path): cannot read the file") }
                try TrainConfigParsing.apply(TrainConfigParsing.flatten(yaml: String(decoding: data, as: UTF8.self), source: path), to: &cfg)
            }
            try TrainConfigParsing.apply(parseSettings(settings), to: &cfg)
            let trainer = try Trainer(config: cfg, registry: plugins.registry())
            let last = try trainer.run { print($0.jsonLine); fflush(stdout) }
            let correct = Int((last.testAccuracy * Double(trainer.test.count)).rounded())
            print(String(format: "test accuracy: %.4f (%d/%d) — %@ on %@, %d epochs", last.testAccuracy, correct, trainer.test.count,
                         trainer.optimizer.strategy.id, cfg.dataset, cfg.epochs))
        }
    }
}
