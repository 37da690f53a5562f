import Foundation
import Yams

/// Reads a run configuration from YAML and `--set key=value` overrides. Keys are dotted paths
/// (`optimizer.lr`); every unknown key or bad value is an error naming the key, the value and
/// what was expected. Optimizer hyperparameters are checked later against the plugin's schema.
public enum TrainConfigParsing {
    public static let keys = ["dataset", "model.hidden", "optimizer", "optimizer.id", "optimizer.<hyperparameter>",
                              "epochs", "batch_size", "seed", "test_fraction", "normalize",
                              "pruner", "pruner.id", "pruner.<hyperparameter>", "prune_start_epoch", "prune_end_epoch"]

    /// Flattens a YAML document to (dotted key, text) pairs in document order.
    public static func flatten(yaml text: String, source: String) throws -> [(String, String)] {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw GradusError("\(source): not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        guard let node else { return [] }
        guard case .mapping(let root) = node else { throw GradusError("\(source): expected a mapping of keys at the top level") }
        var out: [(String, String)] = []
        func walk(_ mapping: Node.Mapping, _ prefix: String) throws {
            for (k, v) in mapping {
                guard let key = k.string else { throw GradusError("\(source): a key is not a string") }
                let path = prefix.isEmpty ? key : prefix + "." + key
                switch v {
                case .scalar(let s): out.append((path, s.string))
                case .sequence(let seq):
                    let items = try seq.map { item -> String in
                        guard let s = item.scalar?.string else { throw GradusError("\(source): \(path) must be a list of scalars") }
                        return s
                    }
                    out.append((path, items.joined(separator: ",")))
                case .mapping(let m): try walk(m, path)
                default: throw GradusError("\(source): \(path) has an unsupported YAML node")
                }
            }
        }
        try walk(root, "")
        return out
    }

    /// The configuration as (key, text) pairs that `apply` reads back to the same configuration.
    public static func pairs(_ c: TrainConfig) -> [(String, String)] {
        var out: [(String, String)] = [("dataset", c.dataset)]
        out.append(("model.hidden", c.hidden.map(String.init).joined(separator: ",")))
        out.append(("optimizer", c.optimizer))
        for (k, v) in c.optimizerSettings { out.append(("optimizer." + k, v)) }
        out.append(("epochs", String(c.epochs)))
        out.append(("batch_size", String(c.batchSize)))
        out.append(("seed", String(c.seed)))
        out.append(("test_fraction", "\(c.testFraction)"))
        out.append(("normalize", c.normalize))
        if let p = c.pruner {
            out.append(("pruner", p))
            for (k, v) in c.prunerSettings { out.append(("pruner." + k, v)) }
            out.append(("prune_start_epoch", String(c.pruneStartEpoch)))
            if let end = c.pruneEndEpoch { out.append(("prune_end_epoch", String(end))) }
        }
        return out
    }

    /// Applies (key, text) pairs to `config`.
    public static func apply(_ pairs: [(String, String)], to config: inout TrainConfig) throws {
        func integer(_ key: String, _ text: String, min: Int) throws -> Int {
            guard let v = Int(text), v >= min else { throw GradusError("\(key)=\(text): expected an integer >= \(min)") }
            return v
        }
        var settings = config.optimizerSettings
        for (key, text) in pairs {
            switch key {
            case "dataset": config.dataset = text
            case "normalize":
                guard ["standardize", "none"].contains(text) else { throw GradusError("normalize=\(text): expected standardize or none") }
                config.normalize = text
            case "model.hidden":
                let sizes = text.split(separator: ",").map { Int($0.trimmingWhitespace) }
                guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) >= 1 }) else {
                    throw GradusError("model.hidden=\(text): expected positive layer sizes, e.g. 128 or 256,128")
                }
                config.hidden = sizes.map { $0! }
            case "optimizer", "optimizer.id":
                config.optimizer = text
            case "epochs": config.epochs = try integer(key, text, min: 1)
            case "batch_size": config.batchSize = try integer(key, text, min: 1)
            case "seed":
                guard let v = UInt64(text) else { throw GradusError("seed=\(text): expected an integer >= 0") }
                config.seed = v
            case "test_fraction":
                guard let v = Double(text), v > 0, v < 1 else { throw GradusError("test_fraction=\(text): expected a number in (0, 1)") }
                config.testFraction = v
            case "pruner", "pruner.id":
                config.pruner = text
            case let k where k.hasPrefix("pruner."):
                let name = String(k.dropFirst("pruner.".count))
                config.prunerSettings.removeAll { $0.0 == name }
                config.prunerSettings.append((name, text))
            case "prune_start_epoch": config.pruneStartEpoch = try integer(key, text, min: 1)
            case "prune_end_epoch": config.pruneEndEpoch = try integer(key, text, min: 1)
            case let k where k.hasPrefix("optimizer."):
                let name = String(k.dropFirst("optimizer.".count))
                settings.removeAll { $0.0 == name }
                settings.append((name, text))
            default:
                throw GradusError("unknown configuration key '\(key)' (expected one of: \(keys.joined(separator: ", ")))")
            }
        }
        config.optimizerSettings = settings
    }
}
