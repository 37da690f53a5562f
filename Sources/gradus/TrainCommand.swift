import ArgumentParser
import Foundation
import GradusRuntime

/// `gradus train [CONFIG.yaml] [--set key=value ...]`.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model; with no arguments, an MLP 64-128-10 on the bundled digits set with Adam (lr 1e-3, batch 64, 20 epochs).",
        discussion: "Keys: \(TrainConfigParsing.keys.joined(separator: ", ")). Metrics are printed as JSON Lines, one per epoch. SIGINT or SIGTERM stops training between batches after writing the checkpoint (exit status 130 or 143).")
    @OptionGroup var plugins: PluginOptions
    @Argument(help: "A YAML configuration file.") var config: String?
    @Option(help: "Start from a task's preset (dataset, model, optimizer, run length; `gradus tasks` lists them); a configuration file and --set change it further.")
    var task: String?
    @Option(name: .customLong("set"), help: "Override one key, e.g. --set optimizer.lr=0.01 or --set epochs=5; repeatable.")
    var settings: [String] = []
    @Option(help: "Write a checkpoint here after every epoch, and every checkpoint_every steps when that key is set (atomically: the previous one stays intact until the new one is complete). An existing file must be a Gradus checkpoint.")
    var checkpoint: String?
    @Option(help: "Continue from this checkpoint (its configuration, weights, buffers, optimizer state, position and RNG), bit-identical to a run that never stopped; --set may raise epochs or change checkpoint_every, nothing else.")
    var resume: String?
    @Option(help: "Record the run (its resolved configuration, plugin versions, every hyperparameter, status and each epoch's metrics) in this SQLite experiment database, created when missing (schema: docs/EXPERIMENTS.md).")
    var db: String?
    @Option(name: .customLong("run-id"), help: .hidden) var runID: String?
    /// Builds the run (configuration, data, model, plugins) and exits: how a comparison checks
    /// its runs before starting them.
    @Flag(name: .customLong("check-only"), help: .hidden) var checkOnly = false
    @Option(help: "Write TensorBoard event files (each epoch's metrics as scalars) into this folder, created when missing.")
    var tensorboard: String?

    /// Keys that `--set` may change when resuming; the others would change the run itself
    /// (a new seed re-splits the data, a new batch size moves the position in the epoch).
    static let resumableKeys: Set<String> = ["epochs", "checkpoint_every"]

    func run() throws {
        try reportingErrors {
            let saved = try resume.map { try Checkpoint(contentsOf: $0) }
            var cfg = saved?.config ?? TrainConfig()
            if let task {
                guard saved == nil else { throw GradusError("--task \(task): a resumed run keeps its own configuration; give either --task or --resume") }
                try TrainConfigParsing.apply(TrainingTask.named(task).settings, to: &cfg)
            }
            if let path = config {
                guard saved == nil else { throw GradusError("give either a configuration file or --resume, not both") }
                try TrainConfigParsing.apply(TrainConfigParsing.flatten(yaml: TrainConfigParsing.readFile(path), source: path), to: &cfg)
            }
            let overrides = try parseSettings(settings)
            if let resume, let (key, value) = overrides.first(where: { !Train.resumableKeys.contains($0.0) }) {
                throw GradusError("--set \(key)=\(value): cannot change '\(key)' when resuming \(resume) (only \(Train.resumableKeys.sorted().joined(separator: " and ")) may change; start a new run for anything else)")
            }
            try TrainConfigParsing.apply(overrides, to: &cfg)
            let registry = plugins.registry()
            let destination = try checkpoint.map { path in
                try CheckpointDestination(path, protecting: [("dataset", cfg.dataset == "digits" ? "" : cfg.dataset), ("labels file", cfg.labels ?? ""),
                                                             ("configuration file", config ?? ""), ("experiment database", db ?? "")]
                                                            + registry.libraries.map { ("plugin", $0.file) })
            }
            let recorder = try db.map { path in
                try RunRecorder(path: path, runID: try runID.map(RunIdentifier.parse)) {
                    ExperimentDatabase.PlannedRun(key: RunRecorder.singleRunKey("train"), task: config ?? cfg.dataset, taskKind: "train",
                                                  optimizer: cfg.optimizer, phase: "single", seed: cfg.seed, sweep: nil,
                                                  arguments: Array(CommandLine.arguments.dropFirst()))
                }
            }
            if runID != nil, recorder == nil { throw GradusError("--run-id needs --db") }
            if runID != nil, !HostSignals.terminateWithParent() { throw ExitCode(143) }
            do {
                try train(cfg, registry: registry, destination: destination, saved: saved, recorder: recorder)
            } catch let error as GradusError {
                recorder?.fail(error.message)
                throw error
            } catch let stop as ExitCode {
                // An interrupted comparison's run stays `running`, so that the comparison redoes it.
                if runID == nil || stop.rawValue < 128 {
                    recorder?.fail(stop.rawValue >= 128 ? "interrupted by \(HostSignals.name(stop.rawValue - 128))" : "exit status \(stop.rawValue)")
                }
                throw stop
            }
        }
    }

    func train(_ cfg: TrainConfig, registry: PluginRegistry, destination: CheckpointDestination?, saved: Checkpoint?, recorder: RunRecorder?) throws {
        let trainer = try Trainer(config: cfg, registry: registry)
        if checkOnly { return }
        trainer.checkpoint = destination
        if let saved { try saved.restore(into: trainer, source: resume!) }
        try recorder?.begin(optimizerID: trainer.mainStrategy.id, config: TrainConfigParsing.pairs(cfg), plugins: trainer.pluginVersions,
                            hyperparameters: trainer.resolvedHyperparameters)
        let events = try tensorboard.map { try TensorBoardWriter(directory: $0) }
        let bar = ProgressBar()
        if bar.enabled {
            trainer.onBatch = { epoch, done, total, loss in bar.update(epoch: epoch, epochs: cfg.epochs, done: done, total: total, loss: loss) }
        }
        HostSignals.installInterruptHandlers()
        trainer.interruption = { HostSignals.interruption }
        do {
            var recordingError: Error?
            try trainer.run { m in
                bar.clear()
                StandardOutput.line(m.jsonLine)
                do {
                    try recorder?.record(step: m.step, epoch: m.epoch, m.values)
                    try events?.scalars(step: m.step, m.values)
                } catch { recordingError = recordingError ?? error }
            }
            if let recordingError { throw recordingError }
        } catch let stop as TrainingInterrupted {
            bar.clear()
            StandardOutput.flush()
            printError(stop.description)
            throw ExitCode(stop.exitStatus)
        } catch {
            bar.clear()
            throw error
        }
        if HostSignals.interruption != 0 {
            printError("interrupted by \(HostSignals.name(HostSignals.interruption)) after the last epoch")
            throw ExitCode(128 + HostSignals.interruption)
        }
        let (_, accuracy) = try trainer.evaluate(trainer.test)
        let correct = Int((accuracy * Double(trainer.test.count)).rounded())
        try recorder?.finish(steps: trainer.optimizer.stepCount)
        StandardOutput.line(String(format: "%@ accuracy: %.4f (%d/%d) — %@ on %@, %d epochs", cfg.validationFraction > 0 ? "validation" : "test",
                                   accuracy, correct, trainer.test.count, trainer.optimizerSummary, cfg.dataset, trainer.completedEpochs))
    }
}

/// The hidden `--run-id` of a comparison's child: a positive integer.
enum RunIdentifier {
    static func parse(_ text: String) throws -> Int64 {
        guard let id = Int64(text), id > 0 else { throw GradusError("--run-id \(text): expected a positive integer") }
        return id
    }
}

/// `gradus eval CHECKPOINT`: the test-split loss and accuracy of a checkpoint.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a checkpoint on the test split of its configuration; prints one JSON line. Needs only the plugins of the forward pass (normalizers), not the optimizer's.")
    @OptionGroup var plugins: PluginOptions
    @Argument(help: "A checkpoint written by gradus train --checkpoint.") var checkpoint: String

    func run() throws {
        try reportingErrors {
            let saved = try Checkpoint(contentsOf: checkpoint)
            let (model, test) = try Trainer.evaluationSetup(config: saved.config, registry: plugins.registry())
            try saved.restoreWeights(into: model)
            let (loss, accuracy) = try Trainer.evaluate(model, on: test)
            StandardOutput.line(JSONText.object([("checkpoint", JSONText.string(checkpoint)), ("epoch", "\(saved.epoch)"),
                                                 ("step", "\(saved.stepCount)"), ("test_loss", JSONText.number(loss)),
                                                 ("test_accuracy", JSONText.number(accuracy))]))
        }
    }
}
