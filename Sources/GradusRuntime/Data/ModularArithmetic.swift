import GradusCore

/// The algorithmic dataset of the grokking experiments (Power et al. 2022, "Grokking:
/// Generalization Beyond Overfitting on Small Algorithmic Datasets"): every pair (a, b) of
/// residues mod p as the token sequence [a, b, =] (the token '=' is p), labelled (a + b) mod p.
/// Which pairs a model trains on is the seeded split (`test_fraction` is 1 − the train fraction).
public enum ModularArithmetic {
    public static let defaultModulus = 97
    /// p² rows at most 1,000,000 (the class cap of every dataset).
    public static let maxModulus = 1000

    /// The modulus of "modular_addition" (97) or "modular_addition:P"; nil for other names.
    static func modulus(_ spec: String) throws -> Int? {
        guard spec == "modular_addition" || spec.hasPrefix("modular_addition:") else { return nil }
        guard spec != "modular_addition" else { return defaultModulus }
        let text = spec.dropFirst("modular_addition:".count)
        guard let p = Int(text), (2...maxModulus).contains(p) else {
            throw GradusError("dataset=\(spec): the modulus '\(text)' must be an integer in 2...\(maxModulus)")
        }
        return p
    }

    /// All p² sequences [a, b, p] with labels (a + b) mod p; vocabulary p + 1.
    public static func addition(modulus p: Int) throws -> Dataset {
        var features = [Float](), labels = [Int]()
        features.reserveCapacity(p * p * 3)
        for a in 0..<p {
            for b in 0..<p {
                features += [Float(a), Float(b), Float(p)]
                labels.append((a + b) % p)
            }
        }
        return try Dataset(name: "modular_addition:\(p)", features: Tensor(shape: [p * p, 3], scalars: features), labels: labels,
                           vocabulary: p + 1)
    }
}
