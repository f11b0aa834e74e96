import FsmlCore
import GBDT

/// The HTML comparison: the table, overlaid ROC curves and validation learning curves.
extension RunComparison {
    public func html(store: TrackingStore) throws -> String {
        let c = self
        // Per-segment metrics are many and secondary: they fold away below the others.
        func table(_ metrics: [String], params: Bool) -> String {
            var rows: [[String]] = []
            var classes: [[Int]: String] = [:]
            if params {
                for k in c.differingParams { rows.append(["param " + k] + c.runs.map { $0.params[k] ?? "-" }) }
            }
            for m in metrics {
                for i in c.best[m] ?? [] { classes[[rows.count, i + 1]] = "best" }
                rows.append([m] + c.runs.map { MetricText.format($0.metrics[m]) })
            }
            return HTML.table([""] + c.runs.map { "\($0.name) (\($0.id.prefix(8)))" }, rows, classes: classes)
        }
        let segmentMetrics = c.metrics.filter { $0.hasPrefix("segment.") }
        var b = "<h1>Comparison of \(c.runs.count) runs</h1>"
        b += "<p class=\"summary\">\(HTML.escape(summary))</p><div class=\"charts\">"
        let rocs = c.runs.map { r in
            ChartSeries(
                name: r.name,
                points: ((try? FileSystem.readBytes(r.artifactsDirectory + "/evaluation.json")).map {
                    EvaluationFile.rocCurve($0)
                } ?? []).map { ($0.x, $0.y) })
        }
        if rocs.contains(where: { !$0.points.isEmpty }) {
            b += SVGChart.lines(
                title: "ROC", x: "false positive rate", y: "true positive rate", series: rocs, xRange: 0...1,
                yRange: 0...1, diagonal: true)
        }
        let curveKeys = Set(c.runs.flatMap { store.metricKeys($0) }).filter { $0.hasPrefix("iter_valid_") }.sorted()
        for key in curveKeys {
            let series = try c.runs.map { r in
                ChartSeries(
                    name: r.name, points: try store.metricHistory(r, key: key).map { (Double($0.step), $0.value) })
            }
            b += SVGChart.lines(
                title: "Learning curve: \(key.dropFirst("iter_".count))", x: "iteration", y: String(key.dropFirst(5)),
                series: series)
        }
        b += "</div><h2>Metrics</h2>" + table(c.metrics.filter { !$0.hasPrefix("segment.") }, params: true)
        b += "<p class=\"muted\">best value per metric highlighted (results on held-out data that set runs apart)</p>"
        if !segmentMetrics.isEmpty {
            b += "<details><summary>Metrics per segment (\(segmentMetrics.count))</summary>"
            b += table(segmentMetrics, params: false) + "</details>"
        }
        return HTML.page(title: "fsml compare runs", body: b)
    }

    /// What differs between the runs and how they rank on the headline metric.
    public var summary: String {
        let c = self
        var parts: [String] = []
        if c.differingParams.isEmpty {
            parts.append("The runs share every parameter.")
        } else {
            let shown = c.differingParams.prefix(4).map { k in
                "\(k) (\(c.runs.map { $0.params[k] ?? "-" }.joined(separator: ", ")))"
            }
            parts.append(
                "The runs differ in \(shown.joined(separator: "; "))\(c.differingParams.count > 4 ? " and \(c.differingParams.count - 4) more" : "")."
            )
        }
        let headline = ["valid_auc", "valid_logloss", "valid_rmse"].first { m in
            c.runs.contains { $0.metrics[m] != nil }
        }
        if let m = headline {
            let direction = MetricDirection(metric: m)
            let ranked = c.runs.filter { $0.metrics[m]?.isFinite == true }.sorted {
                direction == .lower ? $0.metrics[m]! < $1.metrics[m]! : $0.metrics[m]! > $1.metrics[m]!
            }
            if let best = ranked.first, ranked.count > 1 {
                let others = ranked.dropFirst().map {
                    "\($0.name) \(MetricText.format($0.metrics[m])) (\(MetricText.signed($0.metrics[m]! - best.metrics[m]!)))"
                }
                parts.append(
                    best.metrics[m] == ranked[1].metrics[m]
                        ? "On \(m) the best runs tie at \(MetricText.format(best.metrics[m]))."
                        : "On \(m), \(best.name) leads with \(MetricText.format(best.metrics[m])); \(others.joined(separator: ", "))."
                )
            }
        }
        return parts.joined(separator: " ")
    }

    /// The comparison as JSON: the runs, the params that differ, every metric, the best runs per metric.
    public var json: JSONValue {
        .object([
            ("runs", .array(runs.map { .object([("run_id", .string($0.id)), ("run_name", .string($0.name))]) })),
            (
                "params",
                .object(
                    differingParams.map { k in (k, .array(runs.map { r in r.params[k].map { .string($0) } ?? .null })) }
                )
            ),
            (
                "metrics",
                .object(metrics.map { m in (m, .array(runs.map { r in r.metrics[m].map { .number($0) } ?? .null })) })
            ),
            (
                "best",
                .object(best.keys.sorted().map { m in (m, .array(best[m]!.sorted().map { .string(runs[$0].id) })) })
            ),
        ])
    }

    /// The comparison as a Markdown table, the best value per metric in bold.
    public var markdown: String {
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        let names = runs.map { "\($0.name) (\($0.id.prefix(8)))" }
        var s = "| | " + names.map(cell).joined(separator: " | ") + " |\n"
        s += "|---|" + String(repeating: "---:|", count: runs.count) + "\n"
        for k in differingParams {
            s += "| param `\(k)` | " + runs.map { cell($0.params[k] ?? "-") }.joined(separator: " | ") + " |\n"
        }
        for m in metrics {
            s +=
                "| \(m) | "
                + runs.indices.map { i in
                    let v = MetricText.format(runs[i].metrics[m])
                    return best[m]?.contains(i) == true ? "**\(v)**" : v
                }.joined(separator: " | ") + " |\n"
        }
        return s
    }
}
