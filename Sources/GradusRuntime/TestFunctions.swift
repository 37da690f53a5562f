import Foundation

/// The standard 2-D test functions of ALGORITHMS.md §7, with hand-written gradients
/// evaluated in float32 (the precision of the parameters).
public struct TestFunction: Sendable {
    public let name: String
    /// The usual starting point.
    public let start: [Float]
    public let formula: String
    let f: @Sendable (Float, Float) -> Float
    let g: @Sendable (Float, Float) -> (Float, Float)

    public func value(_ x: [Float]) -> Float { f(x[0], x[1]) }
    public func gradient(_ x: [Float]) -> [Float] { let d = g(x[0], x[1]); return [d.0, d.1] }

    public static let all: [TestFunction] = [
        TestFunction(name: "rosenbrock", start: [-1.2, 1], formula: "(1 - x)^2 + 100 (y - x^2)^2",
                     f: { x, y in (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x) },
                     g: { x, y in
                         let r = y - x * x
                         return (-2 * (1 - x) - 400 * x * r, 200 * r)
                     }),
        TestFunction(name: "beale", start: [1, 1], formula: "(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
                     f: { x, y in
                         let a = 1.5 - x + x * y, b = 2.25 - x + x * y * y, c = 2.625 - x + x * y * y * y
                         return a * a + b * b + c * c
                     },
                     g: { x, y in
                         let a = 1.5 - x + x * y, b = 2.25 - x + x * y * y, c = 2.625 - x + x * y * y * y
                         let dx = 2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y * y * y - 1)
                         let dy = 2 * a * x + 2 * b * (2 * x * y) + 2 * c * (3 * x * y * y)
                         return (dx, dy)
                     }),
        TestFunction(name: "quadratic", start: [1, 1], formula: "0.5 (x^2 + 10 y^2)",
                     f: { x, y in 0.5 * (x * x + 10 * y * y) },
                     g: { x, y in (x, 10 * y) }),
        TestFunction(name: "rastrigin", start: [-2, 3.5], formula: "20 + x^2 - 10 cos(2πx) + y^2 - 10 cos(2πy)",
                     f: { x, y in
                         let tau = 2 * Float.pi
                         return 20 + (x * x - 10 * cos(tau * x)) + (y * y - 10 * cos(tau * y))
                     },
                     g: { x, y in
                         let tau = 2 * Float.pi
                         return (2 * x + 10 * tau * sin(tau * x), 2 * y + 10 * tau * sin(tau * y))
                     }),
        TestFunction(name: "booth", start: [0, 0], formula: "(x + 2y - 7)^2 + (2x + y - 5)^2",
                     f: { x, y in (x + 2 * y - 7) * (x + 2 * y - 7) + (2 * x + y - 5) * (2 * x + y - 5) },
                     g: { x, y in
                         let a = x + 2 * y - 7, b = 2 * x + y - 5
                         return (2 * a + 4 * b, 4 * a + 2 * b)
                     }),
        TestFunction(name: "himmelblau", start: [0, 0], formula: "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
                     f: { x, y in (x * x + y - 11) * (x * x + y - 11) + (x + y * y - 7) * (x + y * y - 7) },
                     g: { x, y in
                         let a = x * x + y - 11, b = x + y * y - 7
                         return (4 * x * a + 2 * b, 2 * a + 4 * y * b)
                     }),
    ]

    /// The function called `name`, or an error listing the known ones.
    public static func named(_ name: String) throws -> TestFunction {
        guard let f = all.first(where: { $0.name == name.lowercased() }) else {
            throw GradusError("unknown function '\(name)' (expected one of: \(all.map(\.name).joined(separator: ", ")))")
        }
        return f
    }
}
