import Foundation
import GradusNN
import Yams

/// Reads a run configuration from YAML and `--set key=value` overrides. Keys are dotted paths
/// (`optimizer.lr`); every unknown key or bad value is an error naming the key, the value and
/// what was expected. Optimizer hyperparameters are checked later against the plugin's schema.
public enum TrainConfigParsing {
    public static let keys = ["dataset", "labels", "model.arch", "model.hidden", "model.channels", "model.dropout",
                              "model.layers", "model.d_model", "model.heads", "model.norm_placement", "model.tie_weights",
                              "model.blocks", "model.rezero",
                              "normalizer", "normalizer.id", "normalizer.<hyperparameter>", "normalizer_form",
                              "optimizer", "optimizer.id", "optimizer.<hyperparameter>", "param_groups.<role>.<hyperparameter>",
                              "route.<role>", "route.<role>.id", "route.<role>.<hyperparameter>", "clip_grad_norm", "accumulate_steps",
                              "schedule.<hyperparameter>", "schedule.<hyperparameter>.function", "schedule.<hyperparameter>.<argument>",
                              "epochs", "batch_size", "seed", "test_fraction", "validation_fraction", "normalize", "checkpoint_every",
                              "pruner", "pruner.id", "pruner.<hyperparameter>", "prune_start_epoch", "prune_end_epoch"]

    /// Keys whose YAML value may be a list (of sizes); everywhere else a list is an error.
    static let listKeys: Set<String> = ["model.hidden", "model.channels"]
    /// Bounds on a configuration document, checked before and while it is read.
    static let maxFileBytes = 1 << 20, maxNesting = YAMLDocument.maxNesting, maxKeys = YAMLDocument.maxKeys

    /// The text of a configuration file: a readable regular file of at most 1 MiB of UTF-8.
    public static func readFile(_ path: String) throws -> String {
        let data = try TextFiles.readRegularFile(path, what: "YAML configuration file", limit: maxFileBytes)
        guard data.count <= maxFileBytes else {
            throw GradusError("\(path): more than the \(maxFileBytes) bytes a configuration file may have")
        }
        return try TextFiles.utf8(data, source: path)
    }

    /// Flattens a YAML document to (dotted key, text) pairs in document order. The nesting is
    /// bounded before the parser sees the text (a parser recursing thousands of levels deep
    /// would overflow its stack); a key given twice, or a list where a single value belongs,
    /// is an error.
    public static func flatten(yaml text: String, source: String) throws -> [(String, String)] {
        try YAMLDocument.read(text, source: source) { node in
            guard let node else { return [] }
            guard case .mapping(let root) = node else { throw GradusError("\(source): expected a mapping of keys at the top level") }
            return try YAMLDocument.flatten(root, source: source, lists: listKeys)
        }
    }

    /// The configuration as (key, text) pairs that `apply` reads back to the same configuration.
    public static func pairs(_ c: TrainConfig) -> [(String, String)] {
        var out: [(String, String)] = [("dataset", c.dataset)]
        if let l = c.labels { out.append(("labels", l)) }
        out.append(("model.arch", c.arch))
        out.append(("model.hidden", c.hidden.map(String.init).joined(separator: ",")))
        out.append(("model.channels", c.channels.map(String.init).joined(separator: ",")))
        out.append(("model.dropout", "\(c.dropout)"))
        if c.arch == "resnet" { out += [("model.blocks", String(c.blocks)), ("model.rezero", String(c.rezero))] }
        if c.arch == "transformer" {
            out += [("model.layers", String(c.layers)), ("model.d_model", String(c.dModel)), ("model.heads", String(c.heads)),
                    ("model.norm_placement", c.normPlacement.rawValue), ("model.tie_weights", String(c.tieWeights))]
        }
        if let n = c.normalizer {
            out.append(("normalizer", n))
            for (k, v) in c.normalizerSettings { out.append(("normalizer." + k, v)) }
            out.append(("normalizer_form", c.normalizerForm.rawValue))
        }
        out.append(("optimizer", c.optimizer))
        for (k, v) in c.optimizerSettings { out.append(("optimizer." + k, v)) }
        for g in c.groupSettings { out.append(("param_groups.\(g.selector).\(g.hyperparameter)", g.value)) }
        for r in c.routes {
            out.append(("route.\(r.selector).id", r.optimizer))
            for (k, v) in r.settings { out.append(("route.\(r.selector).\(k)", v)) }
        }
        out.append(("clip_grad_norm", "\(c.clipGradNorm)"))
        out.append(("accumulate_steps", String(c.accumulateSteps)))
        for s in c.schedules {
            out.append(("schedule.\(s.hyperparameter).function", s.function))
            for (k, v) in s.arguments { out.append(("schedule.\(s.hyperparameter).\(k)", v)) }
        }
        out.append(("checkpoint_every", String(c.checkpointEvery)))
        out.append(("epochs", String(c.epochs)))
        out.append(("batch_size", String(c.batchSize)))
        out.append(("seed", String(c.seed)))
        out.append(("test_fraction", "\(c.testFraction)"))
        if c.validationFraction > 0 { out.append(("validation_fraction", "\(c.validationFraction)")) }
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
        func sizes(_ key: String, _ text: String) throws -> [Int] {
            let sizes = text.split(separator: ",").map { Int($0.trimmingWhitespace) }
            guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) >= 1 }) else {
                throw GradusError("\(key)=\(text): expected positive sizes, e.g. 128 or 256,128")
            }
            return sizes.map { $0! }
        }
        func setting(_ list: inout [(String, String)], _ name: String, _ text: String) {
            list.removeAll { $0.0 == name }
            list.append((name, text))
        }
        var settings = config.optimizerSettings
        for (key, text) in pairs {
            let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            switch key {
            case "dataset": config.dataset = text
            case "labels": config.labels = text
            case "model.arch":
                guard ["mlp", "lenet", "resnet", "transformer"].contains(text) else { throw GradusError("model.arch=\(text): expected mlp, lenet, resnet or transformer") }
                config.arch = text
            case "model.blocks": config.blocks = try integer(key, text, min: 1)
            case "model.rezero":
                guard let v = Bool(text) else { throw GradusError("model.rezero=\(text): expected true or false") }
                config.rezero = v
            case "model.layers": config.layers = try integer(key, text, min: 1)
            case "model.d_model": config.dModel = try integer(key, text, min: 1)
            case "model.heads": config.heads = try integer(key, text, min: 1)
            case "model.norm_placement":
                guard let placement = NormPlacement(rawValue: text) else {
                    throw GradusError("model.norm_placement=\(text): expected \(NormPlacement.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                config.normPlacement = placement
            case "model.tie_weights":
                guard let v = Bool(text) else { throw GradusError("model.tie_weights=\(text): expected true or false") }
                config.tieWeights = v
            case "model.channels": config.channels = try sizes(key, text)
            case "model.dropout":
                guard let v = Double(text), v >= 0, v < 1 else { throw GradusError("model.dropout=\(text): expected a number in [0, 1)") }
                config.dropout = v
            case "normalizer", "normalizer.id": config.normalizer = text
            case "normalizer_form":
                guard let form = NormalizerForm(rawValue: text) else { throw GradusError("normalizer_form=\(text): expected auto, graph or kernel") }
                config.normalizerForm = form
            case let k where k.hasPrefix("normalizer."):
                setting(&config.normalizerSettings, String(k.dropFirst("normalizer.".count)), text)
            case "checkpoint_every": config.checkpointEvery = try integer(key, text, min: 0)
            case "accumulate_steps": config.accumulateSteps = try integer(key, text, min: 1)
            case "clip_grad_norm":
                guard let v = Double(text), v.isFinite, v >= 0 else { throw GradusError("clip_grad_norm=\(text): expected a finite number >= 0 (0: off)") }
                config.clipGradNorm = v
            case let k where k.hasPrefix("route."):
                guard parts.count == 2 || parts.count == 3, !parts[1].isEmpty, parts.count == 2 || !parts[2].isEmpty else {
                    throw GradusError("\(key): expected route.<role>=OPTIMIZER or route.<role>.<hyperparameter>=value (e.g. route.matrix=muon, route.matrix.lr=0.02)")
                }
                var i = config.routes.firstIndex { $0.selector == parts[1] } ?? config.routes.count
                if i == config.routes.count { config.routes.append((parts[1], "", [])); i = config.routes.count - 1 }
                if parts.count == 2 || parts[2] == "id" { config.routes[i].optimizer = text }
                else { setting(&config.routes[i].settings, parts[2], text) }
            case let k where k.hasPrefix("param_groups."):
                guard parts.count == 3, !parts[1].isEmpty, !parts[2].isEmpty else {
                    throw GradusError("\(key): expected param_groups.<role>.<hyperparameter> (e.g. param_groups.bias.weight_decay=0)")
                }
                config.groupSettings.removeAll { $0.selector == parts[1] && $0.hyperparameter == parts[2] }
                config.groupSettings.append((parts[1], parts[2], text))
            case let k where k.hasPrefix("schedule."):
                guard parts.count == 2 || parts.count == 3, !parts[1].isEmpty, parts.count == 2 || !parts[2].isEmpty else {
                    throw GradusError("\(key): expected schedule.<hyperparameter>=FUNCTION or schedule.<hyperparameter>.<argument>=value")
                }
                var i = config.schedules.firstIndex { $0.hyperparameter == parts[1] } ?? config.schedules.count
                if i == config.schedules.count { config.schedules.append((parts[1], "", [])); i = config.schedules.count - 1 }
                if parts.count == 2 || parts[2] == "function" { config.schedules[i].function = text }
                else { setting(&config.schedules[i].arguments, parts[2], text) }
            case "normalize":
                guard ["standardize", "none"].contains(text) else { throw GradusError("normalize=\(text): expected standardize or none") }
                config.normalize = text
            case "model.hidden": config.hidden = try sizes(key, text)
            case "optimizer", "optimizer.id":
                config.optimizer = text
            case "epochs": config.epochs = try integer(key, text, min: 1)
            case "batch_size": config.batchSize = try integer(key, text, min: 1)
            case "seed":
                guard let v = UInt64(text) else { throw GradusError("seed=\(text): expected an integer >= 0") }
                config.seed = v
            case "validation_fraction":
                guard let v = Double(text), v >= 0, v < 1 else { throw GradusError("validation_fraction=\(text): expected a number in [0, 1) (0: evaluate on the test split)") }
                config.validationFraction = v
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
        if let r = config.routes.first(where: { $0.optimizer.isEmpty }) {
            throw GradusError("route.\(r.selector): hyperparameters given but no optimizer (set route.\(r.selector)=OPTIMIZER, e.g. route.\(r.selector)=muon)")
        }
        if let s = config.schedules.first(where: { $0.function.isEmpty }) {
            throw GradusError("schedule.\(s.hyperparameter): arguments given but no function (set schedule.\(s.hyperparameter)=FUNCTION)")
        }
    }
}
