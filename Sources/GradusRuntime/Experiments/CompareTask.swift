import Foundation

/// What a comparison runs its optimizers on: a built-in training task (`TrainingTask`), a
/// training YAML file, or a test function (compared as traces).
public struct CompareTask: Sendable {
    public enum Kind: String, Sendable { case train, trace }
    public let name: String
    public let kind: Kind
    /// For training tasks: the configuration file (nil: the built-in defaults) and the preset's
    /// settings, applied before the comparison's own.
    public let configFile: String?
    public let settings: [(String, String)]

    /// The metric a task's runs are judged by when no target names one: test accuracy for
    /// training tasks, the function value for traces.
    public var defaultMetric: String { kind == .trace ? "f" : "test_accuracy" }

    /// Every name `--task` accepts besides file paths.
    public static var names: [String] { TrainingTask.names + TestFunction.all.map(\.name) }

    /// A built-in task, a test function, or a readable YAML file, by the text given to `--task`.
    public static func resolve(_ text: String) throws -> CompareTask {
        if let b = TrainingTask.all.first(where: { $0.name == text }) {
            // The preset's optimizer and its hyperparameters are one optimizer's; a comparison
            // takes those from each --optimizer SPEC.
            return CompareTask(name: b.name, kind: .train, configFile: nil, settings: b.settings.filter { !$0.0.hasPrefix("optimizer") })
        }
        if let f = TestFunction.all.first(where: { $0.name == text.lowercased() }) {
            return CompareTask(name: f.name, kind: .trace, configFile: nil, settings: [])
        }
        if text.hasSuffix(".yaml") || text.hasSuffix(".yml") || FileManager.default.fileExists(atPath: text) {
            // Read and check it now: a broken file is one error before any run, not N failed runs.
            var config = TrainConfig()
            let pairs = try TrainConfigParsing.flatten(yaml: TrainConfigParsing.readFile(text), source: text)
            // What belongs to one optimizer (its id, hyperparameters, routes and groups) comes from
            // each --optimizer SPEC, and the comparison decides the held-out split.
            if let (key, _) = pairs.first(where: { k, _ in k == "optimizer" || k == "validation_fraction" || ["optimizer.", "route.", "param_groups."].contains { k.hasPrefix($0) } }) {
                throw GradusError("--task \(text): '\(key)' is set in the task file; a comparison takes each optimizer's settings from --optimizer SPEC (and sets validation_fraction itself); remove it from the file")
            }
            try TrainConfigParsing.apply(pairs, to: &config)
            let path = URL(fileURLWithPath: text).standardizedFileURL.path
            return CompareTask(name: text, kind: .train, configFile: path, settings: [])
        }
        throw GradusError("--task \(text): unknown task (expected one of: \(names.joined(separator: ", ")), or a training YAML file)")
    }
}
