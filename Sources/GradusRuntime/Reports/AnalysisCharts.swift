import Foundation

/// The `--plot FILE.svg` charts of `gradus analyze`, one per result type.
public enum AnalysisCharts {
    /// One SVG file (atomically; an existing file must be an SVG, so a mistyped path never
    /// replaces a checkpoint or anything else).
    public static func write(_ svg: String, to path: String) throws {
        try checkDestination(path)
        try AtomicFile.write(Data(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + SVGChart.standalone(svg) + "\n").utf8), to: path)
    }

    /// Refuses a destination that is not an .svg name or that holds something else, before any
    /// work is done.
    public static func checkDestination(_ path: String) throws {
        try GeneratedFile.checkReplaceable(path, option: "--plot", suffix: ".svg", marker: "<svg class=\"chart\"", what: "a chart Gradus drew")
    }

    public static func hessian(_ s: HessianSpectrum, title: String) -> String {
        SVGChart.bars(title: title + (s.trace.map { String(format: " (trace ≈ %.4g)", $0.estimate) } ?? ""), y: SVGChart.Axis("eigenvalue"),
                      bars: s.eigenvalues.enumerated().map { ("λ\($0.offset + 1)", $0.element, nil, SVGChart.color(0)) })
    }

    public static func landscape(_ c: LandscapeCurve, title: String) -> String {
        var loss = SVGChart.Series(name: "loss", points: zip(c.alphas, c.loss).map { ($0, $1) }, color: SVGChart.color(0))
        loss.markers = c.alphas.count <= 41
        return SVGChart.lines(title: title, x: SVGChart.Axis("α (filter-normalised direction)"), y: SVGChart.Axis("training loss", log: wide(c.loss)), series: [loss])
    }

    public static func landscape(_ s: LandscapeSurface, title: String) -> String {
        let n = s.alphas.count - 1
        guard n >= 1, let a0 = s.alphas.first, let a1 = s.alphas.last, let b0 = s.betas.first, let b1 = s.betas.last else { return "" }
        // The contour samples exactly the grid's points (resolution = steps − 1).
        return SVGChart.contour(title: title, x: a0...a1, y: b0...b1, labels: ("α (first direction)", "β (second direction)"), resolution: n, function: { x, y in
            let i = Int(((x - a0) / (a1 - a0) * Double(n)).rounded()), j = Int(((y - b0) / (b1 - b0) * Double(n)).rounded())
            return s.loss[min(max(j, 0), n)][min(max(i, 0), n)]
        }, paths: [SVGChart.Series(name: "checkpoint (0, 0)", points: [(0, 0)], color: "#000000")])
    }

    public static func interpolation(_ p: InterpolationPath, title: String) -> String {
        var train = SVGChart.Series(name: "training loss", points: zip(p.alphas, p.trainLoss).map { ($0, $1) }, color: SVGChart.color(0))
        var test = SVGChart.Series(name: "test loss", points: zip(p.alphas, p.testLoss).map { ($0, $1) }, color: SVGChart.color(1))
        train.markers = p.alphas.count <= 41
        test.markers = train.markers
        return SVGChart.lines(title: title + String(format: " (barrier %.4g)", p.trainBarrier), x: SVGChart.Axis("α (0: A, 1: B)"),
                              y: SVGChart.Axis("loss", log: wide(p.trainLoss + p.testLoss)), series: [train, test])
    }

    public static func tangentKernel(_ k: TangentKernel, title: String) -> String {
        var s = SVGChart.Series(name: "eigenvalue", points: k.eigenvalues.enumerated().map { (Double($0.offset + 1), $0.element) }, color: SVGChart.color(0))
        s.markers = true
        return SVGChart.lines(title: title, x: SVGChart.Axis("index"), y: SVGChart.Axis("eigenvalue", log: k.eigenvalues.allSatisfy { $0 > 0 }), series: [s])
    }

    /// Whether positive values span more than a factor of 20 (then a log axis reads better).
    static func wide(_ values: [Double]) -> Bool {
        let v = values.filter(\.isFinite)
        guard let lo = v.min(), let hi = v.max(), lo > 0 else { return false }
        return hi / lo > 20
    }
}
