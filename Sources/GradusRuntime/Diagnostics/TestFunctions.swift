import Foundation
import GradusCore

/// The standard 2-D test functions of the README (`gradus trace`), each written once with the core's
/// differentiable ops: values, gradients and Hessian-vector products all come from autodiff
/// (float32, the precision of the parameters).
public struct TestFunction: Sendable {
    public let name: String
    /// The usual starting point.
    public let start: [Float]
    public let formula: String
    let expression: @Sendable (Variable, Variable) -> Variable

    /// f at the point, as a recorded variable of the two coordinates.
    public func evaluate(_ p: Variable) -> Variable {
        let x = p.reshaped([1, 2]).pick([0]).reshaped([]), y = p.reshaped([1, 2]).pick([1]).reshaped([])
        return expression(x, y)
    }

    public func value(_ x: [Float]) -> Float {
        GradMode.with(recording: false) { evaluate(Variable(Tensor(shape: [2], scalars: x))).value.scalar }
    }

    public func gradient(_ x: [Float]) -> [Float] { valueAndGradient(x).gradient }

    /// f and ∇f from one recorded pass (the value has the same bits as `value`).
    public func valueAndGradient(_ x: [Float]) -> (value: Float, gradient: [Float]) {
        let p = Variable(Tensor(shape: [2], scalars: x), requiresGrad: true)
        let f = GradMode.with(recording: true) { evaluate(p) }
        return (f.value.scalar, Autodiff.gradients(of: f, wrt: [p])[0].value.scalars)
    }

    public static let all: [TestFunction] = [
        TestFunction(name: "rosenbrock", start: [-1.2, 1], formula: "(1 - x)^2 + 100 (y - x^2)^2") { x, y in
            let a = 1 - x, r = y - x * x
            return a * a + 100 * (r * r)
        },
        TestFunction(name: "beale", start: [1, 1], formula: "(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2") { x, y in
            let xy = x * y, xy2 = xy * y, xy3 = xy2 * y
            let a = 1.5 - x + xy, b = 2.25 - x + xy2, c = 2.625 - x + xy3
            return a * a + b * b + c * c
        },
        TestFunction(name: "quadratic", start: [1, 1], formula: "0.5 (x^2 + 10 y^2)") { x, y in
            0.5 * (x * x + 10 * (y * y))
        },
        TestFunction(name: "rastrigin", start: [-2, 3.5], formula: "20 + x^2 - 10 cos(2πx) + y^2 - 10 cos(2πy)") { x, y in
            let tau = 2 * Float.pi
            return ((x * x - 10 * (tau * x).cos()) + (y * y - 10 * (tau * y).cos())) + 20
        },
        TestFunction(name: "booth", start: [0, 0], formula: "(x + 2y - 7)^2 + (2x + y - 5)^2") { x, y in
            let a = x + 2 * y - 7, b = 2 * x + y - 5
            return a * a + b * b
        },
        TestFunction(name: "himmelblau", start: [0, 0], formula: "(x^2 + y - 11)^2 + (x + y^2 - 7)^2") { x, y in
            let a = x * x + y - 11, b = x + y * y - 7
            return a * a + b * b
        },
    ]

    /// The function called `name`, or an error listing the known ones.
    public static func named(_ name: String) throws -> TestFunction {
        guard let f = all.first(where: { $0.name == name.lowercased() }) else {
            throw GradusError("unknown function '\(name)' (expected one of: \(all.map(\.name).joined(separator: ", ")))")
        }
        return f
    }
}
