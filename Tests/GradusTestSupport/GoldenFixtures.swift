import Foundation
import GradusCore
import GradusRuntime

/// The golden optimizer trajectories written by Fixtures/golden/generate.py: one safetensors file
/// per optimizer, each case a reference run with its recorded gradients, points and state.
public struct GoldenCase {
    public let optimizer: String
    public let name: String
    public let problem: String
    /// Gradus hyperparameter names → CLI text.
    public let settings: [(String, String)]
    public let steps: Int
    public let rtol: Float
    public let atol: Float
    public let note: String
    /// The parameter's shape ([2] for the 2-D functions, [k, n] for matrix problems).
    public let shape: [Int]
    /// points[0] is the start, points[k] the point after step k (row-major).
    public let points: [[Float]]
    /// gradients[k] was fed to step k + 1.
    public let gradients: [[Float]]
    /// Per-step float32 state (tensors), by slot name.
    public let tensorState: [String: [[Float]]]
    /// Per-step float64 state (numbers: counters, running scalars), by slot name.
    public let numberState: [String: [Double]]
}

public enum GoldenFixtures {
    /// The folder of the golden files.
    public static func directory() throws -> String { try TestSupport.fixturePath("golden") }

    /// The optimizers with a golden file (file names without the extension).
    public static func optimizers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory())
            .filter { $0.hasSuffix(".safetensors") && $0 != "problems.safetensors" }
            .map { String($0.dropLast(".safetensors".count)) }.sorted()
    }

    /// Every case of `optimizer`'s file.
    public static func cases(_ optimizer: String) throws -> [GoldenCase] {
        let path = try directory() + "/\(optimizer).safetensors"
        let contents = try SafeTensors.decode(Data(contentsOf: URL(fileURLWithPath: path)), source: path)
        guard let text = contents.metadata["cases"], let list = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else {
            throw GradusError("\(path): no case list in the metadata")
        }
        return try list.enumerated().map { i, c in
            func tensor(_ key: String) throws -> Tensor {
                guard let t = contents.tensors["\(i).\(key)"] else { throw GradusError("\(path): tensor \(i).\(key) is missing") }
                return t
            }
            func rows(_ t: Tensor) -> [[Float]] {
                let n = t.shape.dropFirst().reduce(1, *), all = t.scalars
                return (0..<t.shape[0]).map { Array(all[($0 * n)..<(($0 + 1) * n)]) }
            }
            let x = try tensor("x")
            var tensors: [String: [[Float]]] = [:], numbers: [String: [Double]] = [:]
            for name in c["state"] as? [String] ?? [] {
                if let d = contents.doubles["\(i).state.\(name)"] { numbers[name] = d.values } else { tensors[name] = rows(try tensor("state.\(name)")) }
            }
            let settings = (c["settings"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            return GoldenCase(optimizer: optimizer, name: c["name"] as? String ?? "case \(i)", problem: c["problem"] as? String ?? "",
                              settings: settings, steps: c["steps"] as? Int ?? 0,
                              rtol: Float((c["rtol"] as? NSNumber)?.doubleValue ?? 1e-5), atol: Float((c["atol"] as? NSNumber)?.doubleValue ?? 1e-6),
                              note: c["note"] as? String ?? "", shape: Array(x.shape.dropFirst()), points: rows(x),
                              gradients: rows(try tensor("grad")), tensorState: tensors, numberState: numbers)
        }
    }

    /// The matrix problem `name` (A, B, X0) of problems.safetensors.
    public static func matrixProblem(_ name: String) throws -> (a: Tensor, b: Tensor, x0: Tensor) {
        let path = try directory() + "/problems.safetensors"
        let contents = try SafeTensors.decode(Data(contentsOf: URL(fileURLWithPath: path)), source: path)
        guard let a = contents.tensors["\(name).a"], let b = contents.tensors["\(name).b"], let x0 = contents.tensors["\(name).x0"] else {
            throw GradusError("\(path): no matrix problem '\(name)'")
        }
        return (a, b, x0)
    }
}
