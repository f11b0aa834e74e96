import FsmlCore
import GBDT

/// A tuning study as one self-contained HTML page: what was found and against what, the
/// optimisation history with the best so far, each parameter's share of the spread and its slice,
/// the folds and every trial.
public enum StudyReport {
    public static func html(_ s: StudySummary) -> String {
        let metric = s.metric
        var body = "<h1>Study \(HTML.escape(s.name))</h1>"
        body += "<p class=\"summary\">\(HTML.escape(headline(s)))</p>"
        if let best = s.best {
            body += "<h2>Best parameters (trial \(best.number))</h2>"
            body += HTML.table(
                ["parameter", "value", "searched in"],
                best.assignments.enumerated().map { i, a in
                    [a.name, a.value, s.space.parameters[i].distribution.description]
                })
        }
        body += "<h2>Search</h2><div class=\"charts\">"
        var series: [ChartSeries] = []
        let complete = s.trials.filter { !$0.pruned && !$0.value.isNaN }
        series.append(ChartSeries(name: "trial \(metric)", points: complete.map { (Double($0.number), $0.value) }))
        let bests = s.bestSoFar
        series.append(
            ChartSeries(
                name: "best so far",
                points: s.trials.indices.compactMap { i in bests[i].isNaN ? nil : (Double(s.trials[i].number), bests[i])
                })
        )
        if let baseline = s.baseline, let last = s.trials.last {
            series.append(
                ChartSeries(
                    name: "base parameters", points: [(0, baseline), (Double(last.number), baseline)], dashed: true))
        }
        let prunedTrials = s.trials.filter(\.pruned)
        if !prunedTrials.isEmpty {
            series.append(
                ChartSeries(
                    name: "pruned (value at its last rung)",
                    points: prunedTrials.map { (Double($0.number), $0.value) }, dashed: true))
        }
        body += SVGChart.lines(title: "Optimisation history", x: "trial", y: metric, series: series)
        let importance = s.importance
        if !importance.isEmpty {
            body += SVGChart.bars(
                title: "Parameter importance (share of the spread)", labels: importance.map(\.name),
                values: importance.map(\.share))
        }
        for (p, parameter) in s.space.parameters.enumerated() where complete.count >= 4 {
            let bins = s.slice(p, of: complete)
            if case .choice = parameter.distribution {
                body += SVGChart.bars(
                    title: "Slice: \(parameter.name) (mean \(metric))", labels: bins.map(\.label),
                    values: bins.map(\.mean))
            } else {
                body += SVGChart.lines(
                    title: "Slice: \(parameter.name)", x: "\(parameter.name) (mean of a quartile of trials)",
                    y: "mean \(metric)",
                    series: [ChartSeries(name: "complete trials", points: bins.map { ($0.x, $0.mean) })])
            }
        }
        body += "</div>"
        body += "<h2>Validation folds (rolling origin, by time)</h2>"
        body += HTML.table(
            ["fold", "train rows", "train before", "valid rows", "valid from", "valid before"],
            s.folds.enumerated().map { i, f in
                [
                    "\(i + 1)", "\(f.trainRows)", Timestamp.format(f.trainEnd), "\(f.validRows)",
                    Timestamp.format(f.validStart), Timestamp.format(f.validEnd),
                ]
            })
        body += "<h2>Settings</h2>" + HTML.table(["setting", "value"], s.settings.map { [$0.0, $0.1] })
        body += "<h2>Trials</h2>"
        let bestNumber = s.best?.number
        var classes: [[Int]: String] = [:]
        let rows: [[String]] = s.trials.enumerated().map { r, t in
            if t.number == bestNumber { for c in 0..<6 { classes[[r, c]] = "best" } }
            return [
                "\(t.number)", t.pruned ? "PRUNED" : "COMPLETE", Progress.fixed(t.value, 5),
                "\(t.rungValues.last?.rounds ?? 0)",
                t.assignments.map { "\($0.name)=\($0.value)" }.joined(separator: " "), Progress.fixed(t.seconds, 1),
                s.runIDs[t.number] ?? "",
            ]
        }
        body += HTML.table(
            ["trial", "state", metric, "rounds", "parameters", "seconds", "run"], rows, left: [1, 4, 6],
            classes: classes)
        return HTML.page(title: "Study \(s.name)", body: body)
    }

    /// One sentence: the best against the base parameters, and how the search went.
    public static func headline(_ s: StudySummary) -> String {
        var text =
            "\(s.trials.count) trials (\(s.trials.count - s.pruned) complete, \(s.pruned) pruned) in \(Progress.fixed(s.seconds, 1)) s"
        if let best = s.best {
            text += "; best \(s.metric) \(Progress.fixed(best.value, 5)) at trial \(best.number)"
            if let b = s.baseline, b.isFinite {
                let delta = best.value - b
                text +=
                    ", against \(Progress.fixed(b, 5)) with the base parameters (\(delta >= 0 ? "+" : "")\(Progress.fixed(delta, 5)))"
            }
        }
        return text + ", mean over \(s.folds.count) rolling-origin fold\(s.folds.count == 1 ? "" : "s")."
    }
}
