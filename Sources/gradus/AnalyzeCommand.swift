import ArgumentParser
import Foundation
import GradusCore
import GradusRuntime

/// `gradus analyze`: the geometry of a trained network's loss — Hessian spectrum, loss landscape,
/// linear interpolation between checkpoints and the empirical neural tangent kernel. Each
/// subcommand prints one JSON object. Numeric options are read as text and parsed here, so that
/// an overflowing or negative value is one error line, never a trap in the parser.
struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Analyse a checkpoint: Hessian eigenvalues and trace, loss landscape, interpolation between two checkpoints, neural tangent kernel.",
        subcommands: [HessianCommand.self, LandscapeCommand.self, InterpolateCommand.self, TangentKernelCommand.self]
    )

    /// `--flag text` as an integer in `range`, or an error naming the flag, the value and the range.
    static func seed(_ text: String) throws -> UInt64 {
        guard let s = UInt64(text.trimmingCharacters(in: .whitespaces)) else {
            throw GradusError("--seed \(text): expected an integer in 0...\(UInt64.max)")
        }
        return s
    }

    /// `--batch N|all` against the training split (the first `fallback` rows, at most all, when not given).
    static func rows(_ text: String?, of train: Dataset, fallback: Int = 512) throws -> RowSelection {
        guard let text else { return .first(min(fallback, train.count)) }
        if text.trimmingCharacters(in: .whitespaces).lowercased() == "all" { return .all }
        guard let n = Int(text.trimmingCharacters(in: .whitespaces)), (1...train.count).contains(n) else {
            throw GradusError("--batch \(text): expected an integer in 1...\(train.count) (the rows of the training split) or 'all'")
        }
        return .first(n)
    }

    static func rowCount(_ selection: RowSelection, _ train: Dataset) -> Int {
        if case .first(let n) = selection { return n }
        return train.count
    }

    static func emit(_ fields: [(String, String)]) { StandardOutput.line(JSONText.object(fields)) }
}

extension Analyze {
    /// `gradus analyze hessian`.
    struct HessianCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hessian",
            abstract: "Top eigenvalues of the Hessian of the training loss (Lanczos) and, with --trace, Hutchinson's trace estimate.",
            discussion: """
                The loss is the mean cross-entropy in eval mode over the first --batch rows of the checkpoint configuration's \
                training split (512 by default, or all). --function NAME --at=x,y analyses a test function instead \
                (\(TestFunction.all.map(\.name).joined(separator: ", "))).
                """)
        @OptionGroup var plugins: PluginOptions
        @OptionGroup var plot: PlotOption
        @Argument(help: "A checkpoint written by gradus train --checkpoint.") var checkpoint: String?
        @Option(parsing: .unconditional, help: "How many of the largest eigenvalues (default 3, at most the number of parameters).") var top: String?
        @Flag(help: "Also estimate the trace (Hutchinson, Rademacher probes).") var trace = false
        @Option(parsing: .unconditional, help: "Training rows: N (the first N, default 512) or all.") var batch: String?
        @Option(parsing: .unconditional, help: "Hutchinson probes with --trace (default 100).") var probes: String?
        @Option(parsing: .unconditional, help: "Lanczos iterations (default min(n, max(2·top + 10, 30))).") var iterations: String?
        @Option(parsing: .unconditional, help: "Seed of the Lanczos start vector and the probes.") var seed: String = "0"
        @Option(help: "A test function to analyse instead of a checkpoint.") var function: String?
        @Option(parsing: .unconditional, help: "The point of --function, x,y (default its usual start); write --at=-1,2 for negatives.") var at: String?

        func run() throws {
            try reportingErrors {
                try plot.check()
                let seed = try Analyze.seed(self.seed)
                let hessian: HessianOperator
                var context: [(String, String)]
                switch (checkpoint, function) {
                case (nil, nil): throw GradusError("expected a CHECKPOINT or --function NAME (see --help)")
                case (.some, .some): throw GradusError("give a CHECKPOINT or --function, not both")
                case (let path?, nil):
                    if at != nil { throw GradusError("--at applies only with --function") }
                    let setup = try AnalysisSetup.load(path, registry: plugins.registry(), secondOrder: true)
                    let selection = try Analyze.rows(batch, of: setup.train)
                    let objective = ModelObjective(model: setup.model, rows: try selection.rows(of: setup.train))
                    hessian = .loss(objective)
                    context = [("checkpoint", JSONText.string(path)), ("rows", "\(objective.rows.count)"),
                               ("loss", JSONText.number(try objective.evaluate().loss))]
                case (nil, let name?):
                    if batch != nil { throw GradusError("--batch applies only to a checkpoint, not to --function \(name)") }
                    guard let f = TestFunction.all.first(where: { $0.name == name.lowercased() }) else {
                        throw GradusError("--function \(name): unknown function (expected one of: \(TestFunction.all.map(\.name).joined(separator: ", ")))")
                    }
                    let point = try at.map { try HessianCommand.point($0, dimension: f.start.count) } ?? f.start
                    hessian = .function(f, at: point)
                    context = [("function", JSONText.string(f.name)), ("at", JSONText.array(point.map(JSONText.number))),
                               ("value", JSONText.number(f.value(point)))]
                }
                let n = hessian.dimension
                let top = try top.map { try integerOption($0, "--top", 1...n, "at most the number of parameters") } ?? min(3, n)
                let iterations = try self.iterations.map { try integerOption($0, "--iterations", top...n, "at least --top, at most the number of parameters") }
                if !trace, let probes { throw GradusError("--probes \(probes): applies only with --trace") }
                let probes = try integerOption(self.probes ?? "100", "--probes", 1...1_000_000)
                let spectrum = try HessianSpectrum.compute(hessian, top: top, iterations: iterations, traceProbes: trace ? probes : nil, seed: seed)
                Analyze.emit(context + spectrum.jsonFields)
                if spectrum.ritzChange > HessianSpectrum.convergenceTolerance {
                    printError(String(format: "warning: the top eigenvalues still moved by up to %.2g (relative) over the last %d of %d Lanczos iterations; raise --iterations for converged values",
                                      spectrum.ritzChange, max(1, spectrum.iterations / 10), spectrum.iterations))
                }
                try plot.write(AnalysisCharts.hessian(spectrum, title: "Top Hessian eigenvalues"))
            }
        }

        static func point(_ text: String, dimension: Int) throws -> [Float] {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == dimension else {
                throw GradusError("--at=\(text): expected \(dimension) finite numbers separated by commas (e.g. --at=1,-2), got \(parts.count)")
            }
            return try parts.map { part in
                guard let v = Float(part), v.isFinite else {
                    throw GradusError("--at=\(text): '\(part)' is not a finite number (expected \(dimension) finite numbers separated by commas)")
                }
                return v
            }
        }
    }

    /// `gradus analyze landscape`.
    struct LandscapeCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "landscape",
            abstract: "Loss and accuracy along filter-normalised random directions (Li et al. 2018): a curve (--dims 1) or a grid (--dims 2).",
            discussion: "Directions are Gaussian, rescaled per filter (output row or channel) to the weights' filter norms; biases and normalizer parameters stay fixed. Loss is in eval mode on the first --batch training rows (512 by default, or all).")
        @OptionGroup var plugins: PluginOptions
        @OptionGroup var plot: PlotOption
        @Argument(help: "A checkpoint written by gradus train --checkpoint.") var checkpoint: String
        @Option(parsing: .unconditional, help: "1 (a curve) or 2 (a grid).") var dims: String = "1"
        @Option(parsing: .unconditional, help: "Points per axis, odd so that 0 is one of them (default 21; at most 1001, or 201 with --dims 2).") var steps: String = "21"
        @Option(parsing: .unconditional, help: "The coordinates run from -span to span (default 1).") var span: String = "1"
        @Option(parsing: .unconditional, help: "Seed of the directions.") var seed: String = "0"
        @Option(parsing: .unconditional, help: "Training rows: N (the first N, default 512) or all.") var batch: String?

        func run() throws {
            try reportingErrors {
                try plot.check()
                guard let dims = Int(self.dims.trimmingCharacters(in: .whitespaces)), dims == 1 || dims == 2 else {
                    throw GradusError("--dims \(self.dims): expected 1 (a curve) or 2 (a grid)")
                }
                let most = dims == 1 ? LossLandscape.maxSteps : LossLandscape.maxGridSteps
                guard let steps = Int(self.steps.trimmingCharacters(in: .whitespaces)), steps >= 3, steps <= most, steps % 2 == 1 else {
                    throw GradusError("--steps \(self.steps): expected an odd integer in 3...\(most)\(dims == 2 ? " with --dims 2" : "") (odd so that 0 is a point)")
                }
                guard let span = Double(self.span.trimmingCharacters(in: .whitespaces)), span.isFinite, span > 0 else {
                    throw GradusError("--span \(self.span): expected a finite number > 0")
                }
                let seed = try Analyze.seed(self.seed)
                let setup = try AnalysisSetup.load(checkpoint, registry: plugins.registry())
                let selection = try Analyze.rows(batch, of: setup.train)
                let objective = ModelObjective(model: setup.model, rows: try selection.rows(of: setup.train))
                let context = [("checkpoint", JSONText.string(checkpoint)), ("dims", "\(dims)"), ("rows", "\(objective.rows.count)"),
                               ("span", JSONText.number(span)), ("seed", "\(seed)")]
                if dims == 1 {
                    let curve = try LossLandscape.curve(objective, steps: steps, span: span, seed: seed)
                    Analyze.emit(context + curve.jsonFields)
                    try plot.write(AnalysisCharts.landscape(curve, title: "Loss along a random direction"))
                } else {
                    let surface = try LossLandscape.surface(objective, steps: steps, span: span, seed: seed)
                    Analyze.emit(context + surface.jsonFields)
                    try plot.write(AnalysisCharts.landscape(surface, title: "Loss over two random directions"))
                }
            }
        }
    }

    /// `gradus analyze interpolate`.
    struct InterpolateCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "interpolate",
            abstract: "Loss and accuracy on the line (1-α)·A + α·B between two checkpoints, and the loss barrier (Frankle et al. 2020).",
            discussion: "Parameters and normalizer buffers (running statistics) are interpolated. Rows come from A's configuration: the first --batch training rows (512 by default, or all) and the whole test split.")
        @OptionGroup var plugins: PluginOptions
        @OptionGroup var plot: PlotOption
        @Argument(help: "Checkpoint A (α = 0).") var a: String
        @Argument(help: "Checkpoint B (α = 1).") var b: String
        @Option(parsing: .unconditional, help: "Intervals on [0, 1]: steps + 1 points (default 10).") var steps: String = "10"
        @Option(parsing: .unconditional, help: "Training rows: N (the first N, default 512) or all.") var batch: String?

        func run() throws {
            try reportingErrors {
                try plot.check()
                let steps = try integerOption(self.steps, "--steps", 1...10_000)
                let second = try Checkpoint(contentsOf: b)
                let setup = try AnalysisSetup.load(a, registry: plugins.registry())
                try LinearInterpolation.checkCompatible(setup.checkpoint, a, second, b)
                let differences = LinearInterpolation.dataDifferences(setup.checkpoint.config, second.config)
                if !differences.isEmpty {
                    printError("warning: \(b) was trained with \(differences.joined(separator: ", ")); every row evaluated comes from \(a)'s configuration, so its test split may hold rows \(b) trained on")
                }
                let selection = try Analyze.rows(batch, of: setup.train)
                let path = try LinearInterpolation.run(model: setup.model, a: setup.checkpoint, b: second,
                                                       trainRows: try selection.rows(of: setup.train), test: setup.test, steps: steps)
                Analyze.emit([("a", JSONText.string(a)), ("b", JSONText.string(b)), ("rows", "\(Analyze.rowCount(selection, setup.train))"),
                               ("test_rows", "\(setup.test.count)")] + path.jsonFields)
                try plot.write(AnalysisCharts.interpolation(path, title: "Loss from A to B"))
            }
        }
    }

    /// `gradus analyze ntk`.
    struct TangentKernelCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ntk",
            abstract: "The empirical neural tangent kernel on the first test inputs: the N×N kernel summed over classes, its eigenvalues and trace.")
        @OptionGroup var plugins: PluginOptions
        @OptionGroup var plot: PlotOption
        @Argument(help: "A checkpoint written by gradus train --checkpoint.") var checkpoint: String
        @Option(parsing: .unconditional, help: "The first N test inputs (default 16).") var samples: String = "16"

        func run() throws {
            try reportingErrors {
                try plot.check()
                let setup = try AnalysisSetup.load(checkpoint, registry: plugins.registry())
                let n = try integerOption(samples, "--samples", 1...setup.test.count, "the rows of the test split")
                let (x, _) = setup.test.batch(Array(0..<n)[...])
                let kernel = try TangentKernel.compute(setup.model, inputs: x)
                Analyze.emit([("checkpoint", JSONText.string(checkpoint))] + kernel.jsonFields)
                try plot.write(AnalysisCharts.tangentKernel(kernel, title: "Empirical NTK eigenvalues (\(n) samples)"))
            }
        }
    }
}

/// `--plot FILE.svg` of the analyze subcommands: checked before any work, written after it.
struct PlotOption: ParsableArguments {
    @Option(name: .customLong("plot"), help: "Also draw the result into this SVG file (an existing file there must be a chart gradus drew).") var path: String?

    func check() throws { try path.map(AnalysisCharts.checkDestination) }
    func write(_ svg: @autoclosure () -> String) throws { try path.map { try AnalysisCharts.write(svg(), to: $0) } }
}
