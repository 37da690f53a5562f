import Foundation

/// One optimizer of a comparison: `ID` or `ID:hp=v,hp=v` (e.g. `sgd:lr=0.05,momentum=0.9`). Its
/// label is the text as given (or the key of a spec file's entry); settings are hyperparameters of
/// the optimizer, or training keys that start with `route.`, `param_groups.` or `schedule.`.
public struct OptimizerSpec: Sendable, Equatable {
    public var label: String
    public var id: String
    public var settings: [Setting]

    public struct Setting: Sendable, Equatable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) { (self.key, self.value) = (key, value) }
        /// Whether the key is a training key of its own (a route, a group or a schedule) rather than
        /// one of the optimizer's hyperparameters.
        public var isTrainingKey: Bool { ["route.", "param_groups.", "schedule."].contains { key.hasPrefix($0) } }
    }

    public init(label: String, id: String, settings: [Setting]) { (self.label, self.id, self.settings) = (label, id, settings) }

    public static func parse(_ text: String) throws -> OptimizerSpec {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let id = parts.first, !id.isEmpty, !id.contains(",") && !id.contains("=") else {
            throw GradusError("--optimizer \(text): expected ID or ID:hp=value,hp=value (e.g. sgd:lr=0.05,momentum=0.9)")
        }
        var settings: [Setting] = []
        if parts.count == 2 {
            for item in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2, !kv[0].isEmpty, !kv[1].isEmpty else {
                    throw GradusError("--optimizer \(text): '\(item)' is not hp=value (expected ID:hp=value,hp=value)")
                }
                guard !settings.contains(where: { $0.key == kv[0] }) else { throw GradusError("--optimizer \(text): '\(kv[0])' is given twice") }
                settings.append(Setting(kv[0], kv[1]))
            }
        }
        return OptimizerSpec(label: trimmed, id: id, settings: settings)
    }
}

/// A hyperparameter grid: `lr=1e-4..1e-1:log:8` (K points from LO to HI inclusive; `log` or
/// `linear` spacing, or the hyperparameter's LOG_SCALE flag when neither is written), or an
/// explicit list `momentum=0.8,0.9,0.99`.
public struct SweepSpec: Sendable, Equatable {
    public enum Scale: String, Sendable { case log, linear }
    public var hyperparameter: String
    public var values: [Double]?
    public var low = 0.0, high = 0.0
    public var scale: Scale?
    public var count = 0
    public var text: String

    public static let maxPoints = 1000

    public static func parse(_ text: String) throws -> SweepSpec {
        let usage = "expected HP=LO..HI[:log|:linear]:K (e.g. lr=1e-4..1e-1:log:8) or HP=V1,V2,..."
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else { throw GradusError("--sweep \(text): \(usage)") }
        let name = text[..<eq].trimmingCharacters(in: .whitespaces)
        let rest = text[text.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        var sweep = SweepSpec(hyperparameter: name, text: text)
        if !rest.contains("..") {
            let items = rest.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !items.isEmpty, items.count <= maxPoints, items.allSatisfy({ $0?.isFinite ?? false }) else {
                throw GradusError("--sweep \(text): \(usage); values must be finite numbers, at most \(maxPoints)")
            }
            sweep.values = items.map { $0! }
            return sweep
        }
        let fields = rest.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let bounds = fields[0].components(separatedBy: "..")
        guard fields.count == 2 || fields.count == 3, bounds.count == 2, let lo = Double(bounds[0]), let hi = Double(bounds[1]),
              lo.isFinite, hi.isFinite, lo < hi else {
            throw GradusError("--sweep \(text): \(usage); LO < HI, both finite")
        }
        guard let k = Int(fields.last!), (2...maxPoints).contains(k) else {
            throw GradusError("--sweep \(text): K='\(fields.last!)': expected an integer in 2...\(maxPoints)")
        }
        if fields.count == 3 {
            guard let scale = Scale(rawValue: fields[1] == "lin" ? "linear" : fields[1]) else {
                throw GradusError("--sweep \(text): spacing '\(fields[1])': expected log or linear")
            }
            sweep.scale = scale
        }
        (sweep.low, sweep.high, sweep.count) = (lo, hi, k)
        return sweep
    }

    /// The grid's values, log-spaced when `scale` says so or, when it says nothing, when the
    /// hyperparameter is marked LOG_SCALE; integers are rounded and repeated values dropped.
    public func grid(logScaleByDefault: Bool, integer: Bool) throws -> [Double] {
        var points: [Double]
        if let values { points = values } else {
            let log = (scale ?? (logScaleByDefault ? .log : .linear)) == .log
            if log, low <= 0 { throw GradusError("--sweep \(text): a log-spaced grid needs LO > 0 (or write :linear)") }
            points = (0..<count).map { i in
                let t = Double(i) / Double(count - 1)
                let v = log ? Foundation.exp(Foundation.log(low) + t * (Foundation.log(high) - Foundation.log(low))) : low + t * (high - low)
                // 12 significant digits: 1e-3..1e-1:3 gives 0.01, not 0.010000000000000004.
                return Double(String(format: "%.12g", v)) ?? v
            }
            // Exact end points (exp(log(x)) may be off by an ulp).
            points[0] = low
            points[count - 1] = high
        }
        if let bad = points.first(where: { !$0.isFinite }) {
            throw GradusError("--sweep \(text): the grid reaches \(bad); expected finite values (a narrower range)")
        }
        if integer {
            points = points.map { $0.rounded() }
            if let bad = points.first(where: { abs($0) > 9_007_199_254_740_992 }) {
                throw GradusError("--sweep \(text): \(bad) is not an integer this hyperparameter can take (expected |value| ≤ 2^53)")
            }
        }
        var seen: Set<Double> = []
        return points.filter { seen.insert($0).inserted }
    }

    /// The text of a grid value as a hyperparameter setting (shortest round-trip form).
    public static func text(_ value: Double, integer: Bool) -> String {
        integer ? String(Int64(value)) : "\(value)"
    }
}

/// `--target METRIC=VALUE`: the first epoch (or trace step) at which a run's metric reaches the
/// value; accuracies must reach it from below, losses and function values from above.
public struct TargetSpec: Sendable, Equatable {
    public var metric: String
    public var value: Double
    public var text: String { "\(metric)=\(value)" }
    public var higherIsBetter: Bool { TargetSpec.higherIsBetter(metric) }

    public static func higherIsBetter(_ metric: String) -> Bool { metric.hasSuffix("accuracy") }

    /// Metrics a target or the table may name.
    public static let trainMetrics = ["test_accuracy", "test_loss", "train_loss"]

    public static func parse(_ text: String) throws -> TargetSpec {
        let kv = text.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard kv.count == 2, let v = Double(kv[1]), v.isFinite else {
            throw GradusError("--target \(text): expected METRIC=VALUE (e.g. test_accuracy=0.95, test_loss=0.2, or f=1e-6 for test functions)")
        }
        guard (trainMetrics + ["f"]).contains(kv[0]) else {
            throw GradusError("--target \(text): unknown metric '\(kv[0])' (expected one of: \((trainMetrics + ["f"]).joined(separator: ", ")))")
        }
        return TargetSpec(metric: kv[0], value: v)
    }

    /// Whether `value` meets the target.
    public func isMet(_ value: Double) -> Bool { higherIsBetter ? value >= self.value : value <= self.value }
}
