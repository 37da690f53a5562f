import Foundation
import GradusCore
import GradusNN
import GradusRuntime
import GradusTestSupport
import XCTest

/// `gradus analyze`'s library: Lanczos and Hutchinson on known Hessians and on a tiny MLP against
/// its explicit Hessian, filter-normalised landscapes, interpolation between checkpoints, and the
/// empirical NTK against an independently built Jacobian.
final class AnalysisTests: XCTestCase {
    /// Checkpoints of tiny digits models, written once: an MLP 64-3-10 after 2 epochs, one 64-4-10,
    /// and a 64-6-10 with BatchNorm after 1 and after 2 epochs (same seed, so the same split).
    static let checkpoints: (tiny: String, wider: String, bnShort: String, bnLong: String) = {
        let dir = try! TestSupport.temporaryDirectory()
        func train(_ settings: [(String, String)], _ name: String) -> String {
            var config = TrainConfig()
            try! TrainConfigParsing.apply(settings, to: &config)
            let trainer = try! Trainer(config: config, registry: TestSupport.builtinRegistry())
            try! trainer.run()
            let path = dir + "/\(name).safetensors"
            try! Checkpoint(trainer).write(to: path)
            return path
        }
        return (train([("model.hidden", "3"), ("epochs", "2")], "tiny"),
                train([("model.hidden", "4"), ("epochs", "1")], "wider"),
                train([("model.hidden", "6"), ("normalizer", "batchnorm"), ("epochs", "1")], "bn1"),
                train([("model.hidden", "6"), ("normalizer", "batchnorm"), ("epochs", "2")], "bn2"))
    }()

    var registry: PluginRegistry { TestSupport.builtinRegistry() }

    // MARK: Hessian

    func testQuadraticHasEigenvalues10And1AndTrace11() throws {
        let f = try TestFunction.named("quadratic")
        let s = try HessianSpectrum.compute(.function(f, at: [1, 1]), top: 2, traceProbes: 100, seed: 7)
        XCTAssertEqual(s.eigenvalues.count, 2)
        XCTAssertEqual(s.eigenvalues[0], 10, accuracy: 10 * 1e-4)
        XCTAssertEqual(s.eigenvalues[1], 1, accuracy: 1e-4)
        // Every Rademacher probe of diag(1, 10) gives exactly 1 + 10.
        let trace = try XCTUnwrap(s.trace)
        XCTAssertEqual(trace.estimate, 11)
        XCTAssertEqual(trace.standardError, 0)
        XCTAssertEqual(trace.samples.count, 100)
    }

    /// Rosenbrock at its minimum (1, 1): H = [[802, −400], [−400, 200]]; float32 HVPs keep both
    /// eigenvalues to 1e-4 relative (the small one, 0.399, loses most to cancellation).
    func testRosenbrockAtTheMinimumMatchesTheTwoByTwoFormula() throws {
        let (a, b, c) = (802.0, -400.0, 200.0)
        let mid = (a + c) / 2, radius = (((a - c) / 2) * ((a - c) / 2) + b * b).squareRoot()
        let expected = [mid + radius, mid - radius]
        let s = try HessianSpectrum.compute(.function(try TestFunction.named("rosenbrock"), at: [1, 1]), top: 2)
        for (got, want) in zip(s.eigenvalues, expected) { XCTAssertEqual(got, want, accuracy: 1e-4 * abs(want)) }
        XCTAssertEqual(s.eigenvalues, s.eigenvalues.sorted(by: >))
    }

    /// The second-difference matrix (2 on the diagonal, −1 beside it) has eigenvalues
    /// 2 − 2cos(kπ/(m + 1)); a zero off-diagonal entry splits the matrix into independent blocks.
    func testSturmBisectionFindsKnownTridiagonalSpectra() {
        let m = 40
        let got = SymmetricTridiagonal.eigenvalues(diagonal: [Double](repeating: 2, count: m), offDiagonal: [Double](repeating: -1, count: m - 1))
        let want = (1...m).map { 2 - 2 * cos(Double($0) * Double.pi / Double(m + 1)) }.sorted(by: >)
        for (g, w) in zip(got, want) { XCTAssertEqual(g, w, accuracy: 1e-13) }
        let split = SymmetricTridiagonal.eigenvalues(diagonal: [1, 1, 7], offDiagonal: [2, 0])
        for (g, w) in zip(split, [7.0, 3, -1]) { XCTAssertEqual(g, w, accuracy: 1e-13) }
    }

    /// A diagonal operator with repeated eigenvalues: the Krylov space of one start vector holds
    /// each distinct eigenvalue once and becomes invariant after 4 steps, so the full run must
    /// restart to find the repeats.
    func testLanczosRestartsWhenTheKrylovSpaceIsInvariant() throws {
        let diagonal: [Double] = [5, 1, 3, 5, 0, 1, 1, 0, -2, 0]
        let r = try Lanczos.run(dimension: diagonal.count, iterations: diagonal.count, seed: 3) { v in zip(diagonal, v).map { $0 * $1 } }
        XCTAssertEqual(r.iterations, diagonal.count)
        XCTAssertTrue(r.offDiagonal.contains(0), "a restart is marked by a zero off-diagonal entry")
        for (g, w) in zip(r.ritzValues, diagonal.sorted(by: >)) { XCTAssertEqual(g, w, accuracy: 1e-10) }
    }

    /// The tiny MLP (235 parameters): Lanczos's top 3 after the default 30 iterations equal the top 3
    /// eigenvalues of the explicit Hessian, assembled column by column from HVPs of unit vectors and
    /// symmetrised, within 1e-5 of the largest eigenvalue (float32 HVPs and the float32 interface of
    /// the reference eigensolver; they agree to about 3e-8 on this machine); and
    /// Hutchinson's estimate lies within 4 standard errors of the explicit trace.
    func testLanczosTopThreeMatchesTheExplicitHessianOfATinyMLP() throws {
        let setup = try AnalysisSetup.load(Self.checkpoints.tiny, registry: registry, secondOrder: true)
        let objective = ModelObjective(model: setup.model, rows: try RowSelection.first(256).rows(of: setup.train))
        let n = objective.layout.dimension
        XCTAssertEqual(n, 64 * 3 + 3 + 3 * 10 + 10)
        var h = [Float](repeating: 0, count: n * n)
        for j in 0..<n {
            var e = [Double](repeating: 0, count: n)
            e[j] = 1
            let column = try objective.hessianVectorProduct(e)
            for i in 0..<n { h[i * n + j] = Float(column[i]) }
        }
        var asymmetry: Float = 0
        for i in 0..<n { for j in 0..<i { asymmetry = max(asymmetry, abs(h[i * n + j] - h[j * n + i])) } }
        for i in 0..<n { for j in 0..<i { let s = (h[i * n + j] + h[j * n + i]) / 2; h[i * n + j] = s; h[j * n + i] = s } }
        var w = [Float](repeating: 0, count: n), v = [Float](repeating: 0, count: n * n)
        try LAPACK.symmetricEigen(h, n: n, w: &w, v: &v)
        let explicit = w.reversed().prefix(3).map(Double.init)
        XCTAssertLessThan(Double(asymmetry), 1e-4 * explicit[0], "HVPs of unit vectors give a symmetric matrix")

        let spectrum = try HessianSpectrum.compute(.loss(objective), top: 3, traceProbes: 200, seed: 1)
        XCTAssertEqual(spectrum.iterations, 60)
        XCTAssertLessThanOrEqual(spectrum.ritzChange, HessianSpectrum.convergenceTolerance)
        for (got, want) in zip(spectrum.eigenvalues, explicit) { XCTAssertEqual(got, want, accuracy: 1e-5 * explicit[0]) }
        let trace = (0..<n).reduce(0.0) { $0 + Double(h[$1 * n + $1]) }
        let estimate = try XCTUnwrap(spectrum.trace)
        XCTAssertEqual(estimate.estimate, trace, accuracy: 4 * (estimate.standardError ?? 0) + 1e-9)
    }

    /// A BatchNorm model checkpointed with normalizer_form=kernel is rebuilt in the graph form, so
    /// HVPs pass through the normalizer: the Hessian is symmetric, uᵀ(Hv) = vᵀ(Hu).
    func testHessianPassesThroughBatchNormInItsGraphForm() throws {
        var saved = try Checkpoint(contentsOf: Self.checkpoints.bnShort)
        saved.config.normalizerForm = .kernel
        let setup = try AnalysisSetup(path: "bn", checkpoint: saved, registry: registry, secondOrder: true)
        let objective = ModelObjective(model: setup.model, rows: try RowSelection.first(64).rows(of: setup.train))
        var rng = RandomStream(seed: 5, stream: "test")
        let n = objective.layout.dimension
        let u = (0..<n).map { _ in Double(rng.normal()) }, v = (0..<n).map { _ in Double(rng.normal()) }
        let hu = try objective.hessianVectorProduct(u), hv = try objective.hessianVectorProduct(v)
        let uhv = zip(u, hv).reduce(0) { $0 + $1.0 * $1.1 }, vhu = zip(v, hu).reduce(0) { $0 + $1.0 * $1.1 }
        XCTAssertGreaterThan(abs(uhv), 1e-3)
        XCTAssertEqual(uhv, vhu, accuracy: 1e-4 * abs(uhv))
        XCTAssertTrue(setup.model.layers.compactMap { $0 as? PluginNormalization }.allSatisfy(\.usesGraph))
    }

    func testHessianRefusesCountsOutsideTheParameterCount() {
        let op = HessianOperator(dimension: 4) { $0 }
        XCTAssertThrowsError(try HessianSpectrum.compute(op, top: 5)) { XCTAssertTrue("\($0)".contains("top 5: expected 1...4"), "\($0)") }
        XCTAssertThrowsError(try HessianSpectrum.compute(op, top: 2, iterations: 1)) { XCTAssertTrue("\($0)".contains("iterations 1: expected 2...4"), "\($0)") }
        XCTAssertEqual(HessianSpectrum.defaultIterations(top: 3, dimension: 9610), 60)
        XCTAssertEqual(HessianSpectrum.defaultIterations(top: 20, dimension: 9610), 100)
        XCTAssertEqual(HessianSpectrum.defaultIterations(top: 2, dimension: 2), 2)
    }

    // MARK: Landscape

    /// At α = 0 the landscape is the checkpoint's own loss on the same rows (`Trainer.evaluate`,
    /// what `gradus eval` runs), bit for bit; the 2-D grid is steps × steps around the same value.
    func testLandscapeAtZeroIsTheCheckpointsLossAndTheGridHasItsShape() throws {
        let setup = try AnalysisSetup.load(Self.checkpoints.bnLong, registry: registry)
        let rows = try RowSelection.first(700).rows(of: setup.train)
        let objective = ModelObjective(model: setup.model, rows: rows)
        let reference = try Trainer.evaluate(setup.model, on: rows)
        let curve = try LossLandscape.curve(objective, steps: 7, span: 0.5, seed: 2)
        XCTAssertEqual(curve.alphas.count, 7)
        XCTAssertEqual(curve.alphas[3], 0)
        XCTAssertEqual(curve.alphas.first, -0.5)
        XCTAssertEqual(curve.alphas.last, 0.5)
        XCTAssertEqual(curve.loss[3], reference.loss)
        XCTAssertEqual(curve.accuracy[3], reference.accuracy)
        XCTAssertGreaterThan(curve.loss[0], curve.loss[3], "moving away from trained weights raises the loss")
        let grid = try LossLandscape.surface(objective, steps: 5, span: 1, seed: 2)
        XCTAssertEqual(grid.loss.count, 5)
        XCTAssertTrue(grid.loss.allSatisfy { $0.count == 5 } && grid.accuracy.allSatisfy { $0.count == 5 })
        XCTAssertEqual(grid.betas, grid.alphas)
        XCTAssertEqual(grid.loss[2][2], reference.loss)
        XCTAssertEqual(grid.loss[0][2], try LossLandscape.curve(objective, steps: 5, span: 1, seed: 2).loss[0],
                       "the grid's first direction is the curve's")
        XCTAssertNotEqual(grid.loss[2][0], grid.loss[0][2], "the two directions differ")
    }

    /// Each filter (output row of a dense weight, output channel of a convolution) of the direction
    /// has the norm of the weights' filter; 1-D parameters get zero directions.
    func testDirectionsAreFilterNormalised() throws {
        var rng = RandomStream(seed: 9, stream: "weights")
        func random(_ shape: [Int]) -> Tensor { Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.normal() * 3 }) }
        var weights = [random([5, 7]), random([5]), random([4, 2, 3, 3]), random([6])]
        weights[0].withUnsafeMutableBuffer { b in for i in 7..<14 { b[i] = 0 } }   // a pruned row stays still
        var stream = RandomStream(seed: 1, stream: "landscape")
        let d = FilterNormalization.randomDirection(like: weights, rng: &stream)
        func norms(_ t: Tensor) -> [Double] {
            let size = t.count / t.shape[0]
            return (0..<t.shape[0]).map { f in (0..<size).reduce(0.0) { $0 + Double(t[flat: f * size + $1]) * Double(t[flat: f * size + $1]) }.squareRoot() }
        }
        for k in [0, 2] {
            for (got, want) in zip(norms(d[k]), norms(weights[k])) { XCTAssertEqual(got, want, accuracy: 1e-5 * max(1, want)) }
        }
        XCTAssertEqual(norms(d[0])[1], 0)
        XCTAssertTrue(d[1].scalars.allSatisfy { $0 == 0 } && d[3].scalars.allSatisfy { $0 == 0 })
        XCTAssertNotEqual(d[0].scalars.map(abs), weights[0].scalars.map(abs), "a random direction, not the weights up to signs")

        // On a real model: every weight matrix row, and nothing else moves.
        let setup = try AnalysisSetup.load(Self.checkpoints.bnShort, registry: registry)
        let values = setup.model.parameters.map(\.value)
        let direction = FilterNormalization.randomDirection(like: values, rng: &stream)
        for (p, dp) in zip(setup.model.parameters, direction) {
            if p.shape.count == 2 {
                for (got, want) in zip(norms(dp), norms(p.value)) { XCTAssertEqual(got, want, accuracy: 1e-5 * max(1, want), p.name) }
            } else {
                XCTAssertTrue(dp.scalars.allSatisfy { $0 == 0 }, "\(p.name) (\(p.role)) has no direction")
            }
        }
    }

    // MARK: Interpolation

    /// A with itself: the same loss at every α and no barrier.
    func testInterpolatingACheckpointWithItselfIsFlat() throws {
        let setup = try AnalysisSetup.load(Self.checkpoints.bnShort, registry: registry)
        let rows = try RowSelection.first(300).rows(of: setup.train)
        let path = try LinearInterpolation.run(model: setup.model, a: setup.checkpoint, b: setup.checkpoint, trainRows: rows, test: setup.test, steps: 4)
        XCTAssertEqual(path.alphas, [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(Set(path.trainLoss).count, 1)
        XCTAssertEqual(Set(path.testLoss).count, 1)
        XCTAssertEqual(path.trainBarrier, 0)
        XCTAssertEqual(path.testBarrier, 0)
    }

    /// The ends are each checkpoint's own evaluation (weights and BatchNorm running statistics, as
    /// `gradus eval` restores them); the middle is the evaluation of the blended weights and buffers.
    func testInterpolationEndsAreEachCheckpointsEvaluation() throws {
        let (pa, pb) = (Self.checkpoints.bnShort, Self.checkpoints.bnLong)
        let setup = try AnalysisSetup.load(pa, registry: registry)
        let b = try Checkpoint(contentsOf: pb)
        try LinearInterpolation.checkCompatible(setup.checkpoint, pa, b, pb)
        XCTAssertTrue(setup.model.buffers.contains { $0.name.hasSuffix("running_mean") })
        let rows = try RowSelection.first(400).rows(of: setup.train)
        let path = try LinearInterpolation.run(model: setup.model, a: setup.checkpoint, b: b, trainRows: rows, test: setup.test, steps: 2)

        func evaluation(of checkpoint: Checkpoint) throws -> (train: (loss: Double, accuracy: Double), test: (loss: Double, accuracy: Double)) {
            let (model, test) = try Trainer.evaluationSetup(config: checkpoint.config, registry: registry)
            try checkpoint.restoreWeights(into: model)
            return (try Trainer.evaluate(model, on: rows), try Trainer.evaluate(model, on: test))
        }
        let (ea, eb) = (try evaluation(of: setup.checkpoint), try evaluation(of: b))
        XCTAssertEqual(path.testLoss.first, ea.test.loss)
        XCTAssertEqual(path.testAccuracy.first, ea.test.accuracy)
        XCTAssertEqual(path.trainLoss.first, ea.train.loss)
        XCTAssertEqual(path.testLoss.last, eb.test.loss)
        XCTAssertEqual(path.testAccuracy.last, eb.test.accuracy)
        XCTAssertEqual(path.trainLoss.last, eb.train.loss)
        XCTAssertNotEqual(ea.test.loss, eb.test.loss)

        // α = 0.5 by hand: every parameter and buffer halfway.
        let (model, test) = try Trainer.evaluationSetup(config: b.config, registry: registry)
        var mid = b
        for (name, t) in b.weights {
            let ta = setup.checkpoint.weights[name]!
            mid.weights[name] = Tensor(shape: t.shape, scalars: zip(ta.scalars, t.scalars).map { $0 + 0.5 * ($1 - $0) })
        }
        try mid.restoreWeights(into: model)
        XCTAssertEqual(path.testLoss[1], try Trainer.evaluate(model, on: test).loss, accuracy: 1e-12)
        XCTAssertEqual(path.trainBarrier, max(0, path.trainLoss[1] - (path.trainLoss[0] + 0.5 * (path.trainLoss[2] - path.trainLoss[0]))))
    }

    func testInterpolationRefusesDifferentArchitecturesAndShapes() throws {
        let a = try Checkpoint(contentsOf: Self.checkpoints.tiny), b = try Checkpoint(contentsOf: Self.checkpoints.wider)
        XCTAssertThrowsError(try LinearInterpolation.checkCompatible(a, "a.st", b, "b.st")) {
            XCTAssertEqual("\($0)", "b.st: model.arch=mlp, model.hidden=4, normalizer=none differs from a.st: model.arch=mlp, model.hidden=3, normalizer=none; expected two checkpoints of the same architecture and shapes")
        }
        var reshaped = a
        reshaped.weights["layers.2.bias"] = Tensor(shape: [5], repeating: 0)
        XCTAssertThrowsError(try LinearInterpolation.checkCompatible(a, "a.st", reshaped, "b.st")) {
            XCTAssertEqual("\($0)", "b.st: layers.2.bias has shape [5], a.st has [10]; expected two checkpoints of the same architecture and shapes")
        }
        let bn = try Checkpoint(contentsOf: Self.checkpoints.bnShort)
        var plain = bn
        plain.config.normalizer = nil
        XCTAssertThrowsError(try LinearInterpolation.checkCompatible(bn, "a.st", plain, "b.st")) { XCTAssertTrue("\($0)".contains("normalizer=none differs"), "\($0)") }
        var missing = bn
        missing.weights["layers.1.running_var"] = nil
        XCTAssertThrowsError(try LinearInterpolation.checkCompatible(bn, "a.st", missing, "b.st")) {
            XCTAssertEqual("\($0)", "a.st has layers.1.running_var, which b.st lacks; expected two checkpoints of the same architecture and shapes")
        }
        XCTAssertEqual(LinearInterpolation.barrier(alphas: [0, 0.5, 1], losses: [1, 3, 2]), 1.5)
        XCTAssertEqual(LinearInterpolation.barrier(alphas: [0, 0.5, 1], losses: [1, 1, 2]), 0)
    }

    // MARK: Neural tangent kernel

    /// The kernel of the tiny MLP on 4 test inputs equals J·Jᵀ summed over classes for a Jacobian
    /// built independently, one sample at a time with one scalar logit each (1e-5 relative), and
    /// agrees with central finite differences per parameter (float32, h = 1e-2: 1e-2 relative); it
    /// is symmetric and positive semi-definite, and its trace is the sum of its eigenvalues.
    func testTangentKernelEqualsAnExplicitJacobianProduct() throws {
        let setup = try AnalysisSetup.load(Self.checkpoints.tiny, registry: registry)
        let model = setup.model, samples = 4
        let (x, _) = setup.test.batch(Array(0..<samples)[...])
        let ntk = try TangentKernel.compute(model, inputs: x)
        XCTAssertEqual(ntk.samples, samples)
        XCTAssertEqual(ntk.classes, 10)
        XCTAssertEqual(ntk.parameters, 235)

        // Independent Jacobian: sample i alone, d logit_c / dθ by a scalar backward pass.
        let params = model.parameters
        var jacobian: [[[Double]]] = []   // [sample][class][parameter]
        for i in 0..<samples {
            let (xi, _) = setup.test.batch([i][...])
            jacobian.append(try (0..<10).map { c in
                let b = ParameterBindings(params)
                let logit = try GradMode.with(recording: true) { try model.forward(Variable(xi), b, mode: .eval).pick([c]).sum() }
                return Autodiff.gradients(of: logit, wrt: b.variables).flatMap { $0.value.scalars.map(Double.init) }
            })
        }
        // The same Jacobian by central differences, one parameter entry at a time.
        let base = params.map(\.value), h: Float = 1e-2
        var fd = [[[Double]]](repeating: [[Double]](repeating: [], count: 10), count: samples)
        for (k, p) in params.enumerated() {
            for e in 0..<p.value.count {
                func logits(_ delta: Float) throws -> Tensor {
                    var values = base
                    values[k][flat: e] += delta
                    return try GradMode.with(recording: false) { try model.forward(Variable(x), ParameterBindings(params, values: values), mode: .eval).value }
                }
                let (plus, minus) = (try logits(h), try logits(-h))
                for i in 0..<samples { for c in 0..<10 { fd[i][c].append((Double(plus[flat: i * 10 + c]) - Double(minus[flat: i * 10 + c])) / Double(2 * h)) } }
            }
        }
        func kernel(_ j: [[[Double]]]) -> [[Double]] {
            var out = [[Double]](repeating: [Double](repeating: 0, count: samples), count: samples)
            for a in 0..<samples {
                for b in 0..<samples {
                    for c in 0..<10 { for q in j[a][c].indices { out[a][b] += j[a][c][q] * j[b][c][q] } }
                }
            }
            return out
        }
        let (exact, differenced) = (kernel(jacobian), kernel(fd))
        let scale = exact.flatMap { $0 }.map(abs).max()!
        for a in 0..<samples {
            for b in 0..<samples {
                XCTAssertEqual(ntk.kernel[a][b], exact[a][b], accuracy: 1e-5 * scale, "Θ[\(a)][\(b)]")
                XCTAssertEqual(ntk.kernel[a][b], differenced[a][b], accuracy: 1e-2 * scale, "Θ[\(a)][\(b)] by differences")
                XCTAssertEqual(ntk.kernel[a][b], ntk.kernel[b][a])
            }
        }
        XCTAssertEqual(ntk.eigenvalues, ntk.eigenvalues.sorted(by: >))
        XCTAssertGreaterThanOrEqual(ntk.eigenvalues.last!, -1e-5 * ntk.eigenvalues[0])
        XCTAssertEqual(ntk.eigenvalues.reduce(0, +), ntk.trace, accuracy: 1e-5 * ntk.trace)
    }

    /// Householder + bisection against LAPACK on a random symmetric matrix, and on matrices with
    /// known spectra: all ones (n, then zeros) and a diagonal.
    func testDenseSymmetricEigenvaluesMatchLAPACK() throws {
        var rng = RandomStream(seed: 4, stream: "matrix")
        let n = 30
        var m = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { for j in 0...i { let v = Double(rng.normal()); m[i][j] = v; m[j][i] = v } }
        var w = [Float](repeating: 0, count: n), v = [Float](repeating: 0, count: n * n)
        try LAPACK.symmetricEigen(m.flatMap { $0.map(Float.init) }, n: n, w: &w, v: &v)
        for (got, want) in zip(SymmetricEigenvalues.of(m), w.reversed()) { XCTAssertEqual(got, Double(want), accuracy: 1e-5) }
        let ones = SymmetricEigenvalues.of([[Double]](repeating: [Double](repeating: 1, count: 5), count: 5))
        for (got, want) in zip(ones, [5.0, 0, 0, 0, 0]) { XCTAssertEqual(got, want, accuracy: 1e-12) }
        for (got, want) in zip(SymmetricEigenvalues.of([[2, 0, 0], [0, -1, 0], [0, 0, 7]]), [7.0, 2, -1]) { XCTAssertEqual(got, want, accuracy: 1e-14) }
        XCTAssertEqual(SymmetricEigenvalues.of([[3]]), [3])
    }

    /// Interpolating runs of different seeds is allowed, but their data settings are reported: the
    /// rows come from A's split.
    func testInterpolationNamesDataSettingsThatDiffer() throws {
        var a = TrainConfig(), b = TrainConfig()
        XCTAssertEqual(LinearInterpolation.dataDifferences(a, b), [])
        b.seed = 1
        b.normalize = "none"
        a.epochs = 3
        XCTAssertEqual(LinearInterpolation.dataDifferences(a, b), ["normalize=none (A: standardize)", "seed=1 (A: 0)"])
    }

    func testTangentKernelRefusesAJacobianLargerThanMemory() {
        XCTAssertThrowsError(try TangentKernel.checkSize(samples: 16, classes: 10, parameters: 1_000_000_000, memory: 8 << 30)) {
            XCTAssertEqual("\($0)", "ntk: the Jacobian of 16 samples × 10 classes by 1000000000 parameters needs 610351 MiB of float32, more than half of this machine's 8192 MiB; expected fewer samples")
        }
        XCTAssertThrowsError(try TangentKernel.checkSize(samples: Int.max, classes: 10, parameters: 10, memory: 8 << 30)) {
            XCTAssertTrue("\($0)".contains("needs more bytes than can be counted"), "\($0)")
        }
        XCTAssertNoThrow(try TangentKernel.checkSize(samples: 16, classes: 10, parameters: 9610, memory: 8 << 30))
    }
}
