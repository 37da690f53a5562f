import Foundation

/// Self-contained SVG charts for reports and `--plot` files: labelled axes with round ticks
/// (linear or log), one colour per series from a palette that stays distinguishable for
/// colour-blind readers (Okabe & Ito), optional bands (e.g. min–max over seeds) and a legend.
public enum SVGChart {
    /// Okabe–Ito's colours without the yellow (too pale on white), then Tableau's for more series.
    public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000",
                                 "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF", "#9467BD"]

    public static func color(_ i: Int) -> String { palette[i % palette.count] }

    /// One line: points, an optional band (low, high at the same x) and how it is drawn.
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var band: [(x: Double, low: Double, high: Double)] = []
        public var color: String
        public var dashed = false
        /// Draw as a staircase (a performance profile), not straight segments.
        public var steps = false
        public var markers = false
        public init(name: String, points: [(x: Double, y: Double)], band: [(x: Double, low: Double, high: Double)] = [], color: String) {
            (self.name, self.points, self.band, self.color) = (name, points, band, color)
        }
    }

    /// An axis: its label, log scale, and optional fixed bounds.
    public struct Axis {
        public var label: String
        public var log = false
        public var range: ClosedRange<Double>?
        public init(_ label: String, log: Bool = false, range: ClosedRange<Double>? = nil) { (self.label, self.log, self.range) = (label, log, range) }
    }

    /// The charts' own styles (classes title, tick, axis, plot, grid, legend, legend-text): in a
    /// report's stylesheet, or inside a standalone SVG file.
    public static let css = """
        .title{font:600 14px system-ui,Helvetica,Arial,sans-serif;text-anchor:middle;fill:#222}.tick{font:11px system-ui,Helvetica,Arial,sans-serif;fill:#555}
        .axis{font:12px system-ui,Helvetica,Arial,sans-serif;fill:#333}.plot{fill:#fff;stroke:#bbb}.grid{stroke:#eee}
        .legend{fill:#fff;fill-opacity:.85;stroke:#ccc}.legend-text{font:11px system-ui,Helvetica,Arial,sans-serif;fill:#222}
        """

    /// A chart as a file of its own: its styles inside it, on a white background.
    public static func standalone(_ svg: String) -> String {
        guard let end = svg.firstIndex(of: ">") else { return svg }
        let head = svg[...end]
        return head + "<style>\(css)</style><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>" + svg[svg.index(after: end)...]
    }

    static let width = 560.0, height = 340.0
    static let left = 68.0, right = 16.0, top = 34.0, bottom = 46.0

    /// A frame mapping data to pixels, with its ticks.
    struct Frame {
        let x: Axis, y: Axis
        let xr: ClosedRange<Double>, yr: ClosedRange<Double>  // in axis units (log10 for log axes)
        var plotWidth: Double { SVGChart.width - SVGChart.left - SVGChart.right }
        var plotHeight: Double { SVGChart.height - SVGChart.top - SVGChart.bottom }
        func px(_ v: Double) -> Double { SVGChart.left + (unit(v, x.log) - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * plotWidth }
        func py(_ v: Double) -> Double { SVGChart.top + plotHeight - (unit(v, y.log) - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * plotHeight }
        func unit(_ v: Double, _ log: Bool) -> Double { log ? Foundation.log10(v) : v }
    }

    /// Bounds in axis units over `values`, padded, or the axis's fixed range.
    static func bounds(_ values: [Double], _ axis: Axis, pad: Double) -> ClosedRange<Double> {
        if let r = axis.range { return axis.log ? Foundation.log10(r.lowerBound)...Foundation.log10(r.upperBound) : r }
        let v = values.filter { $0.isFinite && (!axis.log || $0 > 0) }.map { axis.log ? Foundation.log10($0) : $0 }
        guard var lo = v.min(), var hi = v.max() else { return 0...1 }
        if hi - lo < 1e-12 { lo -= axis.log ? 0.5 : max(abs(lo) * 0.1, 0.5); hi += axis.log ? 0.5 : max(abs(hi) * 0.1, 0.5) }
        let p = (hi - lo) * pad
        return (lo - p)...(hi + p)
    }

    /// Round tick values inside `range` (axis units): 1-2-5 steps, or powers of ten on log axes.
    static func ticks(_ range: ClosedRange<Double>, log: Bool) -> [Double] {
        if log {
            let lo = Int(Foundation.floor(range.lowerBound)), hi = Int(Foundation.ceil(range.upperBound))
            let every = max(1, (hi - lo) / 6)
            var decades = stride(from: lo, through: hi, by: every).map { Double($0) }
            // Less than two decades: 2× and 5× ticks too, so the axis has enough labels to read.
            if range.upperBound - range.lowerBound < 2 { decades = decades.flatMap { [$0, $0 + Foundation.log10(2), $0 + Foundation.log10(5)] } }
            return decades.filter { range.contains($0) }
        }
        let span = range.upperBound - range.lowerBound
        let raw = span / 5, magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        let first = Foundation.ceil(range.lowerBound / step) * step
        return stride(from: first, through: range.upperBound + step * 1e-9, by: step).map { abs($0) < step * 1e-9 ? 0 : $0 }
    }

    static func tickText(_ v: Double, log: Bool) -> String {
        if log {
            let value = Foundation.pow(10, v)
            let e = Int(Foundation.floor(v + 1e-9)), mantissa = Int((value / Foundation.pow(10, Double(e))).rounded())
            if (-3...4).contains(e) { return String(format: "%g", Double(mantissa) * Foundation.pow(10, Double(e))) }
            return mantissa == 1 ? "1e\(e)" : "\(mantissa)e\(e)"
        }
        let a = abs(v)
        if a == 0 { return "0" }
        if a >= 1e5 || a < 1e-3 { return String(format: "%.0e", v) }
        return String(format: "%g", (v * 1e6).rounded() / 1e6)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func n(_ v: Double) -> String { String(format: "%.1f", v) }

    /// The opening of a chart: the svg element, the title, the plot frame, the grid and the axes.
    static func frame(title: String, _ f: Frame, xTicks: Bool = true) -> [String] {
        var out = ["<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escape(title))\">",
                   "<title>\(escape(title))</title>",
                   "<text x=\"\(n(width / 2))\" y=\"20\" class=\"title\">\(escape(title))</text>",
                   "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(f.plotWidth))\" height=\"\(n(f.plotHeight))\" class=\"plot\"/>"]
        for t in xTicks ? ticks(f.xr, log: f.x.log) : [] {
            let x = left + (t - f.xr.lowerBound) / (f.xr.upperBound - f.xr.lowerBound) * f.plotWidth
            out.append("<line x1=\"\(n(x))\" y1=\"\(n(top))\" x2=\"\(n(x))\" y2=\"\(n(top + f.plotHeight))\" class=\"grid\"/>")
            out.append("<text x=\"\(n(x))\" y=\"\(n(top + f.plotHeight + 16))\" class=\"tick\" text-anchor=\"middle\">\(tickText(t, log: f.x.log))</text>")
        }
        for t in ticks(f.yr, log: f.y.log) {
            let y = top + f.plotHeight - (t - f.yr.lowerBound) / (f.yr.upperBound - f.yr.lowerBound) * f.plotHeight
            out.append("<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(left + f.plotWidth))\" y2=\"\(n(y))\" class=\"grid\"/>")
            out.append("<text x=\"\(n(left - 6))\" y=\"\(n(y + 4))\" class=\"tick\" text-anchor=\"end\">\(tickText(t, log: f.y.log))</text>")
        }
        out.append("<text x=\"\(n(left + f.plotWidth / 2))\" y=\"\(n(height - 8))\" class=\"axis\" text-anchor=\"middle\">\(escape(f.x.label + (f.x.log ? " (log)" : "")))</text>")
        out.append("<text transform=\"translate(16 \(n(top + f.plotHeight / 2))) rotate(-90)\" class=\"axis\" text-anchor=\"middle\">\(escape(f.y.label + (f.y.log ? " (log)" : "")))</text>")
        return out
    }

    /// Opens a nested viewport over the plot area (same coordinates) that clips what is drawn in
    /// it; closed by "</svg>". No ids, so many charts can share one HTML page.
    static func clip(_ f: Frame) -> String {
        "<svg x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(f.plotWidth))\" height=\"\(n(f.plotHeight))\" viewBox=\"\(n(left)) \(n(top)) \(n(f.plotWidth)) \(n(f.plotHeight))\" overflow=\"hidden\">"
    }

    /// The legend, in the plot's top-right corner.
    /// The legend, in the corner of the plot that covers the fewest of `points` (pixels).
    static func legend(_ entries: [(name: String, color: String, dashed: Bool)], inside f: Frame, avoiding points: [(Double, Double)] = []) -> [String] {
        guard !entries.isEmpty else { return [] }
        let longest = entries.map(\.name.count).max() ?? 0
        let w = Double(min(longest, 40)) * 6.4 + 34, h = Double(entries.count) * 16 + 8
        let corners = [(left + f.plotWidth - w - 6, top + 6), (left + 6, top + 6), (left + f.plotWidth - w - 6, top + f.plotHeight - h - 6),
                       (left + 6, top + f.plotHeight - h - 6)]
        let covered = corners.map { c in points.filter { $0.0 >= c.0 - 4 && $0.0 <= c.0 + w + 4 && $0.1 >= c.1 - 4 && $0.1 <= c.1 + h + 4 }.count }
        let (x0, y0) = corners[covered.indices.min { covered[$0] < covered[$1] } ?? 0]
        var out = ["<rect x=\"\(n(x0))\" y=\"\(n(y0))\" width=\"\(n(w))\" height=\"\(n(h))\" class=\"legend\"/>"]
        for (i, e) in entries.enumerated() {
            let y = y0 + 14 + Double(i) * 16
            out.append("<line x1=\"\(n(x0 + 6))\" y1=\"\(n(y - 4))\" x2=\"\(n(x0 + 24))\" y2=\"\(n(y - 4))\" stroke=\"\(e.color)\" stroke-width=\"2.5\"\(e.dashed ? " stroke-dasharray=\"5 3\"" : "")/>")
            out.append("<text x=\"\(n(x0 + 28))\" y=\"\(n(y))\" class=\"legend-text\">\(escape(String(e.name.prefix(40))))</text>")
        }
        return out
    }

    /// A line chart; points outside a log axis's domain (≤ 0) and non-finite ones are left out.
    public static func lines(title: String, x: Axis, y: Axis, series: [Series]) -> String {
        func ok(_ v: Double, _ log: Bool) -> Bool { v.isFinite && (!log || v > 0) }
        let xs = series.flatMap { $0.points.map(\.x) + $0.band.map(\.x) }
        let ys = series.flatMap { $0.points.map(\.y) + $0.band.flatMap { [$0.low, $0.high] } }
        let f = Frame(x: x, y: y, xr: bounds(xs, x, pad: 0.02), yr: bounds(ys, y, pad: 0.05))
        var out = frame(title: title, f)
        out.append(clip(f))
        for s in series {
            let band = s.band.filter { ok($0.x, x.log) && ok($0.low, y.log) && ok($0.high, y.log) }
            if band.count >= 2 {
                let upper = band.map { "\(n(f.px($0.x))),\(n(f.py($0.high)))" }, lower = band.reversed().map { "\(n(f.px($0.x))),\(n(f.py($0.low)))" }
                out.append("<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(s.color)\" fill-opacity=\"0.18\" stroke=\"none\"/>")
            }
        }
        for s in series {
            let pts = s.points.filter { ok($0.x, x.log) && ok($0.y, y.log) }
            guard !pts.isEmpty else { continue }
            var d = "M\(n(f.px(pts[0].x))),\(n(f.py(pts[0].y)))"
            for (prev, p) in zip(pts, pts.dropFirst()) {
                if s.steps { d += " H\(n(f.px(p.x))) V\(n(f.py(p.y)))" } else { _ = prev; d += " L\(n(f.px(p.x))),\(n(f.py(p.y)))" }
            }
            out.append("<path d=\"\(d)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"5 3\"" : "")/>")
            if s.markers || pts.count == 1 {
                for p in pts { out.append("<circle cx=\"\(n(f.px(p.x)))\" cy=\"\(n(f.py(p.y)))\" r=\"3\" fill=\"\(s.color)\"/>") }
            }
        }
        out.append("</svg>")
        // Segments are sampled too, so a line crossing a corner without a vertex there still counts.
        let drawn = series.flatMap { s -> [(Double, Double)] in
            let pts = s.points.filter { ok($0.x, x.log) && ok($0.y, y.log) }.map { (f.px($0.x), f.py($0.y)) }
            return zip(pts, pts.dropFirst()).flatMap { a, b in (0..<8).map { k in (a.0 + (b.0 - a.0) * Double(k) / 8, a.1 + (b.1 - a.1) * Double(k) / 8) } } + pts
        }
        out += legend(series.map { ($0.name, $0.color, $0.dashed) }, inside: f, avoiding: drawn)
        out.append("</svg>")
        return out.joined(separator: "\n")
    }

    /// Vertical bars with optional error bars (± the given spread).
    public static func bars(title: String, y: Axis, bars: [(name: String, value: Double, spread: Double?, color: String)]) -> String {
        let top = bars.map { $0.value + ($0.spread ?? 0) }.filter(\.isFinite).max() ?? 1
        let f = Frame(x: Axis(""), y: y, xr: 0...Double(max(bars.count, 1)), yr: y.range ?? 0...(top > 0 ? top * 1.12 : 1))
        var out = frame(title: title, f, xTicks: false)
        let slot = f.plotWidth / Double(max(bars.count, 1))
        for (i, b) in bars.enumerated() where b.value.isFinite {
            let x = left + slot * (Double(i) + 0.2), w = slot * 0.6
            let y0 = f.py(f.yr.lowerBound), y1 = f.py(b.value)
            out.append("<rect x=\"\(n(x))\" y=\"\(n(y1))\" width=\"\(n(w))\" height=\"\(n(max(0, y0 - y1)))\" fill=\"\(b.color)\"><title>\(escape(b.name)): \(String(format: "%.4g", b.value))</title></rect>")
            if let s = b.spread, s.isFinite, s > 0 {
                let cx = x + w / 2, lo = f.py(max(f.yr.lowerBound, b.value - s)), hi = f.py(b.value + s)
                out.append("<path d=\"M\(n(cx)),\(n(lo)) V\(n(hi)) M\(n(cx - 6)),\(n(lo)) H\(n(cx + 6)) M\(n(cx - 6)),\(n(hi)) H\(n(cx + 6))\" stroke=\"#333\" stroke-width=\"1.2\" fill=\"none\"/>")
            }
            out.append("<text x=\"\(n(x + w / 2))\" y=\"\(n(SVGChart.top + f.plotHeight + 16))\" class=\"tick\" text-anchor=\"middle\">\(escape(String(b.name.prefix(Int(slot / 6.5)))))</text>")
        }
        out.append("</svg>")
        return out.joined(separator: "\n")
    }

    /// Contour lines of a function sampled on a grid (log-spaced levels of f − min f), with
    /// paths drawn over it (e.g. optimizer trajectories, a circle at each start and end).
    public static func contour(title: String, x: ClosedRange<Double>, y: ClosedRange<Double>, labels: (String, String) = ("x", "y"),
                               resolution: Int = 90, function: (Double, Double) -> Double, paths: [Series]) -> String {
        let f = Frame(x: Axis(labels.0), y: Axis(labels.1), xr: x, yr: y)
        var out = frame(title: title, f)
        let r = resolution
        var grid = [Double](repeating: .nan, count: (r + 1) * (r + 1))
        for j in 0...r { for i in 0...r {
            grid[j * (r + 1) + i] = function(x.lowerBound + (x.upperBound - x.lowerBound) * Double(i) / Double(r),
                                             y.lowerBound + (y.upperBound - y.lowerBound) * Double(j) / Double(r))
        } }
        let finite = grid.filter(\.isFinite)
        if let lo = finite.min(), let hi = finite.max(), hi > lo {
            let shift = lo, span = hi - lo
            let levels = (1...14).map { shift + span * Foundation.pow(10, -4 + 4 * Double($0) / 14) }
            for (k, level) in levels.enumerated() {
                var d = ""
                for j in 0..<r { for i in 0..<r {
                    d += MarchingSquares.segments(grid, r, i, j, level).map { seg in
                        let (a, b) = seg
                        func p(_ q: (Double, Double)) -> String {
                            "\(n(f.px(x.lowerBound + (x.upperBound - x.lowerBound) * q.0 / Double(r)))),\(n(f.py(y.lowerBound + (y.upperBound - y.lowerBound) * q.1 / Double(r))))"
                        }
                        return "M\(p(a)) L\(p(b)) "
                    }.joined()
                } }
                let shade = Int(200 - Double(k) * 8)
                out.append("<path d=\"\(d)\" fill=\"none\" stroke=\"rgb(\(shade),\(shade),\(shade + 30))\" stroke-width=\"0.8\"/>")
            }
        }
        out.append(clip(f))
        for s in paths where !s.points.isEmpty {
            let d = s.points.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(n(f.px($0.element.x))),\(n(f.py($0.element.y)))" }.joined(separator: " ")
            out.append("<path d=\"\(d)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.8\" stroke-opacity=\"0.9\"/>")
            let end = s.points.last!
            out.append("<circle cx=\"\(n(f.px(end.x)))\" cy=\"\(n(f.py(end.y)))\" r=\"3.5\" fill=\"\(s.color)\"/>")
        }
        if let start = paths.first?.points.first {
            out.append("<circle cx=\"\(n(f.px(start.x)))\" cy=\"\(n(f.py(start.y)))\" r=\"4\" fill=\"white\" stroke=\"black\" stroke-width=\"1.5\"><title>start</title></circle>")
        }
        out.append("</svg>")
        out += legend(paths.map { ($0.name, $0.color, false) }, inside: f, avoiding: paths.flatMap { $0.points.map { (f.px($0.x), f.py($0.y)) } })
        out.append("</svg>")
        return out.joined(separator: "\n")
    }
}

/// Marching squares: the segments where a sampled field crosses a level inside one grid cell.
enum MarchingSquares {
    /// Segments in grid coordinates ((i, j) is a sample) for the cell with corner (i, j).
    static func segments(_ g: [Double], _ r: Int, _ i: Int, _ j: Int, _ level: Double) -> [((Double, Double), (Double, Double))] {
        let v = [g[j * (r + 1) + i], g[j * (r + 1) + i + 1], g[(j + 1) * (r + 1) + i + 1], g[(j + 1) * (r + 1) + i]]
        guard v.allSatisfy(\.isFinite) else { return [] }
        let corners = [(Double(i), Double(j)), (Double(i + 1), Double(j)), (Double(i + 1), Double(j + 1)), (Double(i), Double(j + 1))]
        var crossings: [(Double, Double)] = []
        for e in 0..<4 {
            let a = v[e], b = v[(e + 1) % 4]
            guard (a < level) != (b < level) else { continue }
            let t = (level - a) / (b - a)
            let p = corners[e], q = corners[(e + 1) % 4]
            crossings.append((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)))
        }
        if crossings.count == 2 { return [(crossings[0], crossings[1])] }
        if crossings.count == 4 { return [(crossings[0], crossings[1]), (crossings[2], crossings[3])] }
        return []
    }
}
