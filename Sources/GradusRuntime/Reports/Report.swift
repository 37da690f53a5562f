import Foundation

/// `report.html` of a comparison: one self-contained file (inline CSS and SVG; no script, no
/// font or image from the network). Per task: the result table, training-loss and held-out
/// metric curves per optimizer (mean over seeds, band from min to max), the tuning curve when
/// the comparison swept, step-time bars; for test functions the value curves and the
/// trajectories over the function's contours; across tasks with a target, the performance
/// profile (Dolan & Moré 2002).
public enum Report {
    /// Writes the report atomically (a reader never sees half a file); an existing file there
    /// must be an earlier report.
    public static func write(_ results: ComparisonResults, to path: String) throws {
        try checkDestination(path)
        try AtomicFile.write(Data(try html(results).utf8), to: path)
    }

    static let titleMarker = "<title>Gradus comparison</title>"

    public static func checkDestination(_ path: String, option: String = "--output") throws {
        try GeneratedFile.checkReplaceable(path, option: option, suffix: ".html", marker: titleMarker, what: "a Gradus report")
    }

    public static func html(_ results: ComparisonResults) throws -> String {
        let plan = results.plan
        var body: [String] = []
        let runs = try results.database.runs().filter { plan.runKeys.contains($0.key) }
        let failed = runs.filter { $0.status == "failed" }.count, finished = runs.filter { $0.status == "finished" }.count
        body.append("<header><h1>Optimizer comparison</h1><p>\(escape(plan.optimizers.joined(separator: " · "))) on \(escape(plan.tasks.map(\.name).joined(separator: ", "))). \(finished) runs finished, \(failed) failed\(runs.count > finished + failed ? ", \(runs.count - finished - failed) not run yet" : ""). Figures are over the final runs (\(plan.tasks.contains { $0.kind == "train" } ? "\(plan.seeds) seeds per training task" : "")\(plan.tasks.contains { $0.kind == "train" } && plan.tasks.contains { $0.kind == "trace" } ? "; " : "")\(plan.tasks.contains { $0.kind == "trace" } ? "one deterministic trace per test function" : "")); bands span the lowest to the highest seed.\(plan.sweeps.isEmpty ? "" : " Tuned by " + escape(plan.sweeps.joined(separator: ", ")) + " on a validation split.")</p></header>")
        for task in plan.tasks {
            let rows = results.rows.filter { $0.task == task.name }
            body.append("<section><h2>\(escape(task.name))</h2>")
            body.append(table(results, task))
            var charts: [String] = []
            if task.kind == "train" {
                charts.append(try curves(rows, results, metric: "train_loss", title: "Training loss", axis: SVGChart.Axis("training loss", log: true)))
                let metric = rows.first?.metric ?? "test_accuracy"
                if metric != "train_loss" {
                    charts.append(try curves(rows, results, metric: metric, title: metric.replacingOccurrences(of: "_", with: " ").capitalizedFirst,
                                             axis: SVGChart.Axis(metric.replacingOccurrences(of: "_", with: " "), log: metric.hasSuffix("loss"))))
                }
                if !plan.sweeps.isEmpty { charts.append(try tuning(task, rows, results)) }
                charts.append(stepTimes(rows))
            } else {
                charts.append(try curves(rows, results, metric: "f", title: "f along the trace", axis: SVGChart.Axis("f(x)", log: true), x: "step"))
                if let c = try trajectories(task.name, rows, results) { charts.append(c) }
                if !plan.sweeps.isEmpty { charts.append(try tuning(task, rows, results)) }
            }
            body.append("<div class=\"charts\">" + charts.map { "<figure>\($0)</figure>" }.joined() + "</div></section>")
        }
        if plan.tasks.count >= 2, let profile = performanceProfile(results) {
            body.append("<section><h2>Across tasks</h2><p>Performance profile: the fraction of tasks on which each optimizer reaches its task's target within τ times the fastest optimizer's time (training seconds; steps for test functions). An optimizer that never reaches a target never counts for that task.</p><div class=\"charts\"><figure>\(profile)</figure></div></section>")
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            \(titleMarker)<style>\(css)\(SVGChart.css)</style></head>
            <body>
            \(body.joined(separator: "\n"))
            <footer>Written by gradus \(PluginLoader.hostVersion) from \(escape(results.database.path)).</footer>
            </body></html>
            """
    }

    static let css = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;margin:24px auto;max-width:1200px;padding:0 16px}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
        table{border-collapse:collapse;margin:8px 0 12px;font-variant-numeric:tabular-nums}caption{text-align:left;color:#555;padding-bottom:4px}
        th,td{padding:4px 10px;border-bottom:1px solid #e4e4e4;text-align:right;white-space:nowrap}th{background:#f5f5f5}
        td:first-child,th:first-child{text-align:left}.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
        .failed{color:#b00020;font-size:13px}.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:12px}
        figure{margin:0;border:1px solid #e4e4e4;border-radius:6px;padding:4px;background:#fff}svg.chart{width:100%;height:auto}
        footer{margin-top:32px;color:#777;font-size:12px}
        """

    static func escape(_ s: String) -> String { SVGChart.escape(s) }

    /// The task's table (the same cells as the text table), a colour swatch per optimizer.
    static func table(_ results: ComparisonResults, _ task: (name: String, kind: String)) -> String {
        let (header, rows) = results.cells(for: task)
        guard !rows.isEmpty else { return "" }
        var out = ["<table><caption>\(escape(results.caption(for: task)))</caption><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"]
        for (i, row) in rows.enumerated() {
            let first = "<span class=\"swatch\" style=\"background:\(SVGChart.color(i))\"></span>\(escape(row[0]))"
            out.append("<tr><td>\(first)</td>" + row.dropFirst().map { "<td>\(escape($0))</td>" }.joined() + "</tr>")
        }
        out.append("</table>")
        out += results.failureNotes(for: task).map { "<p class=\"failed\">failed: \(escape($0))</p>" }
        return out.joined()
    }

    /// Mean over seeds per epoch (per step for traces), with a min–max band. On a log axis the
    /// values ≤ 0 are left out (the test functions' minima are 0, so f stays positive until
    /// it reaches the minimum exactly).
    static func curves(_ rows: [ComparisonResults.Row], _ results: ComparisonResults, metric: String, title: String, axis: SVGChart.Axis,
                       x: String = "epoch") throws -> String {
        var series: [SVGChart.Series] = []
        var all: [[(x: Double, y: Double)]] = []
        for row in rows {
            var byX: [Double: [Double]] = [:]
            for run in row.runs {
                for p in try results.database.series(run: run.run.id, metric) where p.value.isFinite {
                    byX[x == "epoch" ? Double(p.epoch ?? Int(p.step)) : Double(p.step), default: []].append(p.value)
                }
            }
            let xs = thinned(byX.keys.sorted())
            all.append(xs.map { ($0, Statistics.mean(byX[$0]!)!) })
            var s = SVGChart.Series(name: row.optimizer, points: all.last!, color: SVGChart.color(series.count))
            if row.runs.count > 1 { s.band = xs.map { ($0, byX[$0]!.min()!, byX[$0]!.max()!) } }
            series.append(s)
        }
        return SVGChart.lines(title: title, x: SVGChart.Axis(x), y: axis, series: series)
    }

    /// Final validation metric of each tuning run against the first swept hyperparameter (the
    /// best over any other swept ones), one line per optimizer.
    static func tuning(_ task: (name: String, kind: String), _ rows: [ComparisonResults.Row], _ results: ComparisonResults) throws -> String {
        let metric = task.kind == "trace" ? "f" : results.plan.metric(forKind: task.kind).replacingOccurrences(of: "test_", with: "val_")
        let higher = TargetSpec.higherIsBetter(metric)
        let sweep = results.plan.sweeps.first.flatMap { try? SweepSpec.parse($0) }
        let hp = sweep?.hyperparameter ?? "value"
        let runs = try results.database.runs().filter { results.plan.runKeys.contains($0.key) && $0.task == task.name && $0.phase == "tune" && $0.status == "finished" }
        var series: [SVGChart.Series] = []
        var logX = sweep?.scale == .log
        for (i, row) in rows.enumerated() {
            var best: [Double: Double] = [:]
            for run in runs where run.optimizer == row.optimizer {
                guard let json = run.sweep, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                      let text = object[hp] as? String, let v = Double(text), let score = try results.database.series(run: run.id, metric).last?.value,
                      score.isFinite else { continue }
                best[v] = best[v].map { higher ? max($0, score) : min($0, score) } ?? score
            }
            var s = SVGChart.Series(name: row.optimizer, points: best.keys.sorted().map { ($0, best[$0]!) }, color: SVGChart.color(i))
            s.markers = true
            series.append(s)
        }
        if sweep?.scale == nil, let xs = Optional(series.flatMap { $0.points.map(\.x) }), let lo = xs.min(), let hi = xs.max(), lo > 0, hi / lo >= 100 { logX = true }
        return SVGChart.lines(title: "Tuning: final \(metric.replacingOccurrences(of: "_", with: " ")) against \(hp)", x: SVGChart.Axis(hp, log: logX),
                              y: SVGChart.Axis(metric.replacingOccurrences(of: "_", with: " "), log: metric == "f" || metric.hasSuffix("loss")), series: series)
    }

    static func stepTimes(_ rows: [ComparisonResults.Row]) -> String {
        SVGChart.bars(title: "Mean time per training step", y: SVGChart.Axis("ms per step"), bars: rows.enumerated().map { i, row in
            let t = row.runs.compactMap(\.stepSeconds).map { $0 * 1000 }
            return (row.optimizer, Statistics.mean(t) ?? .nan, Statistics.standardDeviation(t), SVGChart.color(i))
        })
    }

    /// At most about `limit` of `items`, evenly spaced, first and last kept: a curve of 20,000
    /// trace steps draws as well with 600 points, in a fraction of the file.
    static func thinned<T>(_ items: [T], limit: Int = 600) -> [T] {
        guard items.count > limit else { return items }
        let every = items.count / limit + 1
        return items.enumerated().filter { $0.offset % every == 0 || $0.offset == items.count - 1 }.map(\.element)
    }

    /// Each optimizer's path over the contours of the 2-D test function.
    static func trajectories(_ name: String, _ rows: [ComparisonResults.Row], _ results: ComparisonResults) throws -> String? {
        guard let function = TestFunction.all.first(where: { $0.name == name }) else { return nil }
        var paths: [SVGChart.Series] = []
        for (i, row) in rows.enumerated() {
            guard let run = row.runs.first else { continue }
            let xs = try results.database.series(run: run.run.id, "x[0]"), ys = try results.database.series(run: run.run.id, "x[1]")
            var points = zip(xs, ys).map { (x: $0.value, y: $1.value) }.filter { $0.x.isFinite && $0.y.isFinite }
            points = thinned(points)
            paths.append(SVGChart.Series(name: row.optimizer, points: points, color: SVGChart.color(i)))
        }
        let all = paths.flatMap(\.points) + [(x: Double(function.start[0]), y: Double(function.start[1]))]
        guard let x0 = all.map(\.x).min(), let x1 = all.map(\.x).max(), let y0 = all.map(\.y).min(), let y1 = all.map(\.y).max() else { return nil }
        let px = max((x1 - x0) * 0.15, 0.5), py = max((y1 - y0) * 0.15, 0.5)
        let title = "Trajectories on \(name)" + (function.formula.count <= 40 ? ": \(function.formula)" : "")
        return SVGChart.contour(title: title, x: (x0 - px)...(x1 + px), y: (y0 - py)...(y1 + py),
                                function: { Double(function.value([Float($0), Float($1)])) }, paths: paths)
    }

    /// Dolan–Moré: ρ_o(τ) = share of tasks where optimizer o's mean time to target is within τ of
    /// the best optimizer's on that task. Nil when no task has a target.
    static func performanceProfile(_ results: ComparisonResults) -> String? {
        var ratios: [String: [Double]] = [:]
        var tasksWithTarget = 0
        for task in results.plan.tasks where results.plan.target(forKind: task.kind) != nil {
            tasksWithTarget += 1
            let rows = results.rows.filter { $0.task == task.name }
            let cost: [String: Double] = Dictionary(uniqueKeysWithValues: rows.map { row in
                // Every final run must reach the target; otherwise the optimizer failed the task.
                let reached = task.kind == "train" ? row.runs.compactMap(\.targetSeconds) : row.runs.compactMap { $0.targetStep.map(Double.init) }
                return (row.optimizer, !row.runs.isEmpty && reached.count == row.ended ? Statistics.mean(reached)! : .infinity)
            })
            let best = cost.values.min() ?? .infinity
            for row in rows { ratios[row.optimizer, default: []].append(best.isFinite && best > 0 ? cost[row.optimizer]! / best : (cost[row.optimizer]! == best && best == 0 ? 1 : .infinity)) }
        }
        guard tasksWithTarget > 0 else { return nil }
        let finite = ratios.values.flatMap { $0 }.filter(\.isFinite)
        let tauMax = max(2, (finite.max() ?? 1) * 1.2)
        let series = results.plan.optimizers.enumerated().map { i, name -> SVGChart.Series in
            let r = (ratios[name] ?? []).sorted()
            var points: [(x: Double, y: Double)] = [(1, Double(r.filter { $0 <= 1 }.count) / Double(tasksWithTarget))]
            for (k, v) in r.enumerated() where v.isFinite && v > 1 { points.append((v, Double(k + 1) / Double(tasksWithTarget))) }
            points.append((tauMax, points.last!.y))
            var s = SVGChart.Series(name: name, points: points, color: SVGChart.color(i))
            s.steps = true
            return s
        }
        return SVGChart.lines(title: "Performance profile (time to target)", x: SVGChart.Axis("τ (time / best time)", log: true, range: 1...tauMax),
                              y: SVGChart.Axis("share of tasks", range: 0...1.05), series: series)
    }
}

extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
