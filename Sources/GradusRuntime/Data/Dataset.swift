import Foundation
import GradusCore

/// A classification dataset held in memory: features [N, D] and integer labels.
public struct Dataset {
    public let name: String
    public let features: Tensor
    public let labels: [Int]
    public let classes: Int
    /// One sample's image shape [C, H, W] when the features are images (row-major pixels).
    public var imageShape: [Int]?
    /// For token datasets (each row a sequence of integer token ids stored as floats): the number
    /// of distinct tokens. Nil for feature datasets. Token datasets are never standardised.
    public var vocabulary: Int?

    public var count: Int { labels.count }
    /// The largest label accepted: the output layer has one unit per class up to it, so a stray
    /// huge label would otherwise allocate gigabytes (the same cap applies to CSV, IDX and NPY).
    public static let maxLabel = 1_000_000
    public var featureCount: Int { features.shape[1] }

    public init(name: String, features: Tensor, labels: [Int], imageShape: [Int]? = nil, vocabulary: Int? = nil) throws {
        guard features.rank == 2, features.shape[0] == labels.count else {
            throw GradusError("\(name): features \(features.shape) do not match \(labels.count) labels")
        }
        guard !labels.isEmpty else { throw GradusError("\(name): no rows") }
        guard features.shape[1] >= 1 else { throw GradusError("\(name): no feature columns, expected at least one besides the label") }
        guard let lo = labels.min(), lo >= 0, let hi = labels.max(), hi <= Dataset.maxLabel else {
            throw GradusError("\(name): labels must be integers in 0...\(Dataset.maxLabel)")
        }
        self.name = name
        self.features = features
        self.labels = labels
        classes = (labels.max() ?? 0) + 1
        if let imageShape, imageShape.count != 3 || imageShape.reduce(1, *) != features.shape[1] {
            throw GradusError("\(name): image shape \(imageShape) does not hold \(features.shape[1]) features")
        }
        // A square number of features reads as one grey square image (CSV rows of pixels).
        let side = Int(Double(features.shape[1]).squareRoot().rounded())
        self.imageShape = vocabulary != nil ? nil : imageShape ?? (side > 1 && side * side == features.shape[1] ? [1, side, side] : nil)
        self.vocabulary = vocabulary
    }

    /// The UCI optical-recognition digits (1797 images of 8×8 pixels in 0...16, 10 classes), shipped
    /// with Gradus (see Resources/DIGITS.md for the attribution), scaled to [0, 1].
    public static func digits() throws -> Dataset {
        guard let url = Bundle.module.url(forResource: "digits", withExtension: "csv", subdirectory: "Resources") else {
            throw GradusError("the bundled digits dataset is missing from \(Bundle.module.bundlePath)")
        }
        let raw = try csv(path: url.path, labelColumn: "label")
        return try Dataset(name: "digits", features: raw.features.map { $0 / 16 }, labels: raw.labels, imageShape: [1, 8, 8])
    }

    /// Reads a CSV file with a header row; `labelColumn` names the integer label column, every
    /// other column is a numeric feature. Errors name the file, line and column.
    public static func csv(path: String, labelColumn: String = "label") throws -> Dataset {
        let data = try TextFiles.readRegularFile(path, what: "CSV file")
        return try csv(data, source: path, labelColumn: labelColumn)
    }

    /// Parses CSV bytes (see `csv(path:)`); errors name `source`, the line and the column.
    public static func csv(_ data: Data, source path: String, labelColumn: String = "label") throws -> Dataset {
        let text = try TextFiles.utf8(data, source: path)
        // Numbered as an editor numbers them: blank lines count, "\r\n" is one break.
        let numbered = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
            .filter { !$0.element.allSatisfy(\.isWhitespace) }
        guard let (headerIndex, headerLine) = numbered.first else {
            throw GradusError("\(path): empty file, expected a header row")
        }
        let header = headerLine.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace }
        guard let labelIndex = header.firstIndex(of: labelColumn) else {
            throw GradusError("\(path): no column '\(labelColumn)' in the header (columns: \(header.joined(separator: ", ")))")
        }
        guard header.count >= 2 else {
            throw GradusError("\(path):\(headerIndex + 1): the header has only the '\(labelColumn)' column, expected at least one feature column")
        }
        var features: [Float] = [], labels: [Int] = []
        for (index, line) in numbered.dropFirst() {
            let lineNumber = index + 1
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == header.count else {
                throw GradusError("\(path):\(lineNumber): \(cells.count) columns, expected \(header.count)")
            }
            for (j, cell) in cells.enumerated() {
                let t = cell.trimmingWhitespace
                if j == labelIndex {
                    guard let l = Int(t), l >= 0, l <= Dataset.maxLabel else {
                        throw GradusError("\(path):\(lineNumber): label '\(t)' is not an integer in 0...\(Dataset.maxLabel)")
                    }
                    labels.append(l)
                } else {
                    guard let v = Float(t), v.isFinite else {
                        throw GradusError("\(path):\(lineNumber): column '\(header[j])' = '\(t)' is not a finite number")
                    }
                    features.append(v)
                }
            }
        }
        guard !labels.isEmpty else { throw GradusError("\(path): no data rows") }
        return try Dataset(name: (path as NSString).lastPathComponent,
                           features: Tensor(shape: [labels.count, header.count - 1], scalars: features), labels: labels)
    }

    /// Rows `indices` as a batch.
    public func batch(_ indices: ArraySlice<Int>) -> (Tensor, [Int]) {
        let d = featureCount
        var out = Tensor(shape: [indices.count, d], repeating: 0)
        features.withUnsafeBuffer { x in out.withUnsafeMutableBuffer { o in
            for (r, i) in indices.enumerated() {
                for j in 0..<d { o[r * d + j] = x[i * d + j] }
            }
        } }
        return (out, indices.map { labels[$0] })
    }

    /// A seeded split into (train, test); `testFraction` of the rows, rounded, go to test. The
    /// validation split is carved from a training split the same way with its own `stream`.
    public func split(testFraction: Double, seed: UInt64, stream: String = "split",
                      names: (String, String) = ("/train", "/test")) throws -> (train: Dataset, test: Dataset) {
        var rng = RandomStream(seed: seed, stream: stream)
        let order = Dataset.permutation(count, &rng)
        let nTest = Int((testFraction * Double(count)).rounded())
        guard nTest >= 1, nTest < count else {
            let key = stream == "split" ? "test_fraction" : "validation_fraction"
            throw GradusError("\(name): \(count) rows with \(key)=\(testFraction) leave \(count - nTest) for training and \(nTest) for \(stream == "split" ? "testing" : "validation"); expected at least one in each (more rows, or another \(key))")
        }
        func subset(_ idx: ArraySlice<Int>, _ suffix: String) throws -> Dataset {
            let (x, y) = batch(idx)
            return try Dataset(name: name + suffix, features: x, labels: y, imageShape: imageShape, vocabulary: vocabulary)
        }
        return (try subset(order[nTest...], names.0), try subset(order[..<nTest], names.1))
    }

    /// Per-column mean and standard deviation (population), for standardisation.
    public func columnStatistics() -> (mean: [Float], std: [Float]) {
        let d = featureCount, n = Double(count)
        var mean = [Double](repeating: 0, count: d), sq = [Double](repeating: 0, count: d)
        features.withUnsafeBuffer { x in
            for i in 0..<count { for j in 0..<d { mean[j] += Double(x[i * d + j]) } }
            for j in 0..<d { mean[j] /= n }
            for i in 0..<count { for j in 0..<d { let e = Double(x[i * d + j]) - mean[j]; sq[j] += e * e } }
        }
        return (mean.map(Float.init), sq.map { Float(($0 / n).squareRoot()) })
    }

    /// (x − mean) / std per column; constant columns (std below 1e-6) are only centred.
    public func standardized(mean: [Float], std: [Float]) throws -> Dataset {
        let d = featureCount
        var out = features
        out.withUnsafeMutableBuffer { x in
            for i in 0..<count { for j in 0..<d { x[i * d + j] = (x[i * d + j] - mean[j]) / (std[j] < 1e-6 ? 1 : std[j]) } }
        }
        return try Dataset(name: name, features: out, labels: labels, imageShape: imageShape, vocabulary: vocabulary)
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates on the given stream).
    public static func permutation(_ n: Int, _ rng: inout RandomStream) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            p.swapAt(i, j)
        }
        return p
    }
}
