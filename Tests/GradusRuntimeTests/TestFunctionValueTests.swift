import XCTest
@testable import GradusRuntime

/// Every test function of `gradus trace` at hand-computed points: value and gradient (a changed
/// constant — rastrigin's A, booth's 7 and 5, himmelblau's 11 and 7 — shows up here).
final class TestFunctionValueTests: XCTestCase {
    static let table: [(function: String, point: [Float], value: Float, gradient: [Float])] = [
        ("rosenbrock", [0, 0], 1, [-2, 0]),                      // (1 − x)² + 100(y − x²)²
        ("rosenbrock", [1, 1], 0, [0, 0]),
        ("beale", [0, 0], 14.203125, [-2 * (1.5 + 2.25 + 2.625), 0]),  // 1.5² + 2.25² + 2.625²
        ("beale", [3, 0.5], 0, [0, 0]),
        ("quadratic", [1, 1], 5.5, [1, 10]),                     // ½(x² + 10y²)
        ("rastrigin", [0, 0], 0, [0, 0]),                        // 20 + Σ x² − 10 cos 2πx
        ("rastrigin", [0.5, 0.5], 40.5, [1, 1]),
        ("rastrigin", [0.25, 0], 20.0625 - 10, [0.5 + 20 * .pi, 0]),
        ("booth", [0, 0], 74, [-34, -38]),                       // (x + 2y − 7)² + (2x + y − 5)²
        ("booth", [1, 3], 0, [0, 0]),
        ("himmelblau", [0, 0], 170, [-14, -22]),                 // (x² + y − 11)² + (x + y² − 7)²
        ("himmelblau", [3, 2], 0, [0, 0]),
    ]

    func testValuesAndGradientsAtHandComputedPoints() throws {
        for (name, point, value, gradient) in Self.table {
            let f = try TestFunction.named(name)
            XCTAssertEqual(f.value(point), value, accuracy: 1e-4 * max(1, abs(value)), "\(name)\(point)")
            for (g, want) in zip(f.gradient(point), gradient) {
                XCTAssertEqual(g, want, accuracy: 1e-4 * max(1, abs(want)), "∇\(name)\(point)")
            }
        }
        XCTAssertEqual(Set(Self.table.map(\.function)), Set(TestFunction.all.map(\.name)), "every function is covered")
    }
}
