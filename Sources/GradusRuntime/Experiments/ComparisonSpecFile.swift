import Foundation
import Yams

/// A comparison written as YAML (`gradus compare SPEC.yaml`): the same things the flags say.
///
///     optimizers:
///       - adam                                  # a SPEC, as --optimizer takes it
///       - sgd:lr=0.05,momentum=0.9
///       - id: adamw                             # or a mapping: id, optional label, settings
///         label: adamw+muon
///         lr: 0.003
///         route: {matrix: {id: muon, lr: 0.02}}
///     tasks: [digits-mlp, rosenbrock]
///     seeds: 3
///     set: {epochs: 5}                          # training keys for every run (steps/start for traces)
///     sweeps: ["lr=1e-4..1e-1:log:8"]
///     budget: 6                                 # tuning runs per task and optimizer at most
///     targets: [test_accuracy=0.95]
///     jobs: 2
///     timeout: 600
///     validation_fraction: 0.2
public struct ComparisonSpecFile {
    public var optimizers: [OptimizerSpec] = []
    public var tasks: [String] = []
    public var settings: [(String, String)] = []
    public var sweeps: [String] = []
    public var targets: [String] = []
    /// Scalars as text, checked where the flags' values are.
    public var seeds: String?, jobs: String?, timeout: String?, validationFraction: String?, budget: String?

    public static let keys = ["optimizers", "tasks", "seeds", "set", "sweeps", "budget", "targets", "jobs", "timeout", "validation_fraction"]

    public init(path: String) throws {
        let text = try TrainConfigParsing.readFile(path)
        self = try YAMLDocument.read(text, source: path) { root in try ComparisonSpecFile(root: root, path: path) }
    }

    private init(root: Node?, path: String) throws {
        guard let root else { return }
        guard case .mapping(let top) = root else { throw GradusError("\(path): expected a mapping of keys at the top level (\(ComparisonSpecFile.keys.joined(separator: ", ")))") }
        func scalar(_ node: Node, _ key: String) throws -> String {
            guard let s = node.scalar?.string else { throw GradusError("\(path): \(key) must be a single value") }
            return s
        }
        func list(_ node: Node, _ key: String) throws -> [String] {
            if let s = node.scalar?.string { return [s] }
            guard case .sequence(let items) = node else { throw GradusError("\(path): \(key) must be a value or a list of values") }
            return try items.map { try scalar($0, key + " item") }
        }
        func mapping(_ node: Node, _ key: String) throws -> [(String, String)] {
            guard case .mapping(let m) = node else { throw GradusError("\(path): \(key) must be a mapping of keys to values") }
            return try YAMLDocument.flatten(m, source: path)
        }
        var seen: Set<String> = []
        for (k, v) in top {
            guard let key = k.scalar?.string else { throw GradusError("\(path): a top-level key is not a plain string") }
            guard seen.insert(key).inserted else { throw GradusError("\(path): key '\(key)' is given twice") }
            switch key {
            case "optimizers":
                guard case .sequence(let items) = v else { throw GradusError("\(path): optimizers must be a list") }
                for item in items {
                    if let spec = item.scalar?.string {
                        optimizers.append(try OptimizerSpec.parse(spec))
                        continue
                    }
                    let pairs = try mapping(item, "an optimizers entry")
                    guard let id = pairs.first(where: { $0.0 == "id" })?.1 else {
                        throw GradusError("\(path): an optimizers entry has no id (expected e.g. {id: sgd, lr: 0.05})")
                    }
                    let rest = pairs.filter { $0.0 != "id" && $0.0 != "label" }
                    let label = pairs.first(where: { $0.0 == "label" })?.1
                        ?? (rest.isEmpty ? id : id + ":" + rest.map { "\($0.0)=\($0.1)" }.joined(separator: ","))
                    // route.<role>.id is the route's optimizer: the training key route.<role>.
                    let settings = rest.map { p -> OptimizerSpec.Setting in
                        p.0.hasPrefix("route.") && p.0.hasSuffix(".id") ? .init(String(p.0.dropLast(3)), p.1) : .init(p.0, p.1)
                    }
                    optimizers.append(OptimizerSpec(label: label, id: id, settings: settings))
                }
            case "tasks": tasks = try list(v, key)
            case "sweeps", "sweep": sweeps = try list(v, key)
            case "targets", "target": targets = try list(v, key)
            case "set": settings = try mapping(v, key)
            case "seeds": seeds = try scalar(v, key)
            case "jobs": jobs = try scalar(v, key)
            case "timeout": timeout = try scalar(v, key)
            case "validation_fraction": validationFraction = try scalar(v, key)
            case "budget": budget = try scalar(v, key)
            default:
                throw GradusError("\(path): unknown key '\(key)' (expected one of: \(ComparisonSpecFile.keys.joined(separator: ", ")))")
            }
        }
    }
}
