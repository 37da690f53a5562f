import Foundation
import GradusCore
import GradusNN

/// A test problem for `gradus trace`: one parameter tensor and an objective over it, written once
/// with the core's differentiable ops, so values, gradients and Hessian-vector products all come
/// from autodiff (float32, the precision of the parameters). The 2-D functions of the README and
/// the least-squares matrix problem (`least_squares`, data from `--data DIR`) are both this type.
public struct TestFunction: Sendable {
    public let name: String
    /// The usual starting point, row-major.
    public let start: [Float]
    /// The parameter's shape ([2] for the 2-D functions, [k, n] for least squares).
    public let shape: [Int]
    /// The parameter's role as optimizers see it (`vector` for the 2-D functions, `matrix` for X).
    public let role: ParameterRole
    public let formula: String
    let objective: @Sendable (Variable) -> Variable

    /// f at the point, as a recorded variable of the parameter.
    public func evaluate(_ p: Variable) -> Variable { objective(p) }

    public func value(_ x: [Float]) -> Float {
        GradMode.with(recording: false) { evaluate(Variable(Tensor(shape: shape, scalars: x))).value.scalar }
    }

    public func gradient(_ x: [Float]) -> [Float] { valueAndGradient(x).gradient }

    /// f and ∇f from one recorded pass (the value has the same bits as `value`).
    public func valueAndGradient(_ x: [Float]) -> (value: Float, gradient: [Float]) {
        let p = Variable(Tensor(shape: shape, scalars: x), requiresGrad: true)
        let f = GradMode.with(recording: true) { evaluate(p) }
        return (f.value.scalar, Autodiff.gradients(of: f, wrt: [p])[0].value.scalars)
    }

    /// The Hessian of f at `x` times `v` (both row-major, the parameter's shape).
    public func hessianVectorProduct(at x: [Float], _ v: [Float]) -> [Float] {
        let p = Variable(Tensor(shape: shape, scalars: x), requiresGrad: true)
        let f = GradMode.with(recording: true) { evaluate(p) }
        return Autodiff.hessianVectorProduct(of: f, wrt: [p], vectors: [Tensor(shape: shape, scalars: v)])[0].scalars
    }

    /// A function of two coordinates, started at `start`.
    static func planar(_ name: String, start: [Float], formula: String,
                       _ expression: @escaping @Sendable (Variable, Variable) -> Variable) -> TestFunction {
        TestFunction(name: name, start: start, shape: [2], role: .vector, formula: formula) { p in
            let rows = p.reshaped([1, 2])
            return expression(rows.pick([0]).reshaped([]), rows.pick([1]).reshaped([]))
        }
    }

    /// The 2-D functions, by name.
    public static let all: [TestFunction] = [
        planar("rosenbrock", start: [-1.2, 1], formula: "(1 - x)^2 + 100 (y - x^2)^2") { x, y in
            let a = 1 - x, r = y - x * x
            return a * a + 100 * (r * r)
        },
        planar("beale", start: [1, 1], formula: "(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2") { x, y in
            let xy = x * y, xy2 = xy * y, xy3 = xy2 * y
            let a = 1.5 - x + xy, b = 2.25 - x + xy2, c = 2.625 - x + xy3
            return a * a + b * b + c * c
        },
        planar("quadratic", start: [1, 1], formula: "0.5 (x^2 + 10 y^2)") { x, y in
            0.5 * (x * x + 10 * (y * y))
        },
        planar("rastrigin", start: [-2, 3.5], formula: "20 + x^2 - 10 cos(2πx) + y^2 - 10 cos(2πy)") { x, y in
            let tau = 2 * Float.pi
            return ((x * x - 10 * (tau * x).cos()) + (y * y - 10 * (tau * y).cos())) + 20
        },
        planar("booth", start: [0, 0], formula: "(x + 2y - 7)^2 + (2x + y - 5)^2") { x, y in
            let a = x + 2 * y - 7, b = 2 * x + y - 5
            return a * a + b * b
        },
        planar("himmelblau", start: [0, 0], formula: "(x^2 + y - 11)^2 + (x + y^2 - 7)^2") { x, y in
            let a = x * x + y - 11, b = x + y * y - 7
            return a * a + b * b
        },
    ]

    /// Every name `gradus trace --function` accepts.
    public static var names: [String] { all.map(\.name) + ["least_squares"] }

    /// The 2-D function called `name`, or an error listing the known ones.
    public static func named(_ name: String) throws -> TestFunction {
        if name.lowercased() == "least_squares" {
            throw GradusError("function 'least_squares' needs its data: --data with a folder holding a.npy, b.npy and x0.npy")
        }
        guard let f = all.first(where: { $0.name == name.lowercased() }) else {
            throw GradusError("unknown function '\(name)' (expected one of: \(names.joined(separator: ", ")))")
        }
        return f
    }

    /// f(X) = ½‖A·X − B‖²_F / m for A [m, k], B [m, n], started at X₀ [k, n]; X is one parameter of
    /// role matrix (its rows are the k axis).
    public static func leastSquares(a: Tensor, b: Tensor, start x0: Tensor) throws -> TestFunction {
        guard a.shape.count == 2, b.shape.count == 2, x0.shape.count == 2 else {
            throw GradusError("least_squares: a, b and x0 must be 2-D, got shapes \(a.shape), \(b.shape), \(x0.shape)")
        }
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        guard m > 0, k > 0, n > 0, b.shape[0] == m, x0.shape == [k, n] else {
            throw GradusError("least_squares: shapes a \(a.shape), b \(b.shape), x0 \(x0.shape) do not fit (expected a [m, k], b [m, n], x0 [k, n], all non-empty)")
        }
        let av = Variable(a), bv = Variable(b), scale = 0.5 / Float(m)
        return TestFunction(name: "least_squares", start: x0.scalars, shape: [k, n], role: .matrix,
                            formula: "0.5 |A X - B|_F^2 / m") { x in
            let r = matmul(av, x) - bv
            return (r * r).sum() * scale
        }
    }

    /// `least_squares` with A, B and X₀ from `dir`/a.npy, b.npy, x0.npy (float32 or float64 NPY).
    public static func leastSquares(data dir: String) throws -> TestFunction {
        func load(_ file: String) throws -> Tensor {
            let path = (dir as NSString).appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: path) else {
                throw GradusError("least_squares: \(path) is missing (expected a.npy, b.npy and x0.npy in \(dir))")
            }
            let array = try ArrayFiles.read(path)
            guard array.shape.count == 2 else { throw GradusError("\(path): shape \(array.shape), expected a 2-D array") }
            let values = array.values.map(Float.init)
            guard values.allSatisfy(\.isFinite) else { throw GradusError("\(path): holds a non-finite value (or one beyond float32)") }
            return Tensor(shape: array.shape, scalars: values)
        }
        return try leastSquares(a: load("a.npy"), b: load("b.npy"), start: load("x0.npy"))
    }
}
