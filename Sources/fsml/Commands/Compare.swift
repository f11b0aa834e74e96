import ArgumentParser
import FsmlCore
import GBDT
import Tracking

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare tracked runs.", subcommands: [CompareRuns.self])
}

struct CompareRuns: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Runs side by side: the params that differ, every metric, the best value per metric marked (*).",
        discussion: "Without RUN arguments, the --top runs of --experiment by --metric.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, markdown }

    @Argument(help: "Runs (ids, id prefixes or names).") var runs: [String] = []
    @Option(help: "The experiment to take runs from.") var experiment: String?
    @Option(help: "How many runs, best first, when no RUN is given.") var top: Int = 5
    @Option(help: "The metric that ranks runs for --top.") var metric: String = "valid_auc"
    @Option(help: "Only these metrics (comma-separated; default: all but per-iteration curves).") var metrics: String?
    @Option(help: "table, json or markdown.") var format: Format = .table
    @Option(help: "Also write an HTML comparison with overlaid ROC and learning curves.") var html: String?
    @OptionGroup var tracking: TrackingOptions

    func validate() throws {
        if runs.isEmpty && experiment == nil { throw ValidationError("give RUN arguments or --experiment NAME") }
        if top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let store = tracking.store
        let chosen: [RunRecord]
        if runs.isEmpty {
            let e = try store.experiment(experiment!)
            chosen = RunComparison.top(store.runs(experiment: e), metric: metric, n: top)
            if chosen.isEmpty { throw CLIError("experiment '\(e.name)' has no runs") }
        } else {
            chosen = try runs.map { try store.findRun($0, experiment: experiment) }
        }
        let comparison = RunComparison(
            runs: chosen, metrics: metrics.map { $0.split(separator: ",").map(String.init) })
        StandardOutput.write(render(comparison))
        if let html {
            try FileSystem.writeAtomically(try CompareReport.html(comparison, store: store), to: html)
            StandardError.line("wrote \(html)")
        }
    }

    func render(_ c: RunComparison) -> String {
        let names = c.runs.map { "\($0.name) (\($0.id.prefix(8)))" }
        func cell(_ m: String, _ i: Int) -> String {
            RunsOutput.number(c.runs[i].metrics[m]) + (c.best[m]?.contains(i) == true ? " *" : "")
        }
        switch format {
        case .json:
            return JSONText.render(
                .object([
                    (
                        "runs",
                        .array(c.runs.map { .object([("run_id", .string($0.id)), ("run_name", .string($0.name))]) })
                    ),
                    (
                        "params",
                        .object(
                            c.differingParams.map { k in
                                (k, .array(c.runs.map { r in r.params[k].map { .string($0) } ?? .null }))
                            })
                    ),
                    (
                        "metrics",
                        .object(
                            c.metrics.map { m in
                                (m, .array(c.runs.map { r in r.metrics[m].map { .number($0) } ?? .null }))
                            })
                    ),
                    (
                        "best",
                        .object(
                            c.best.keys.sorted().map { m in
                                (m, .array(c.best[m]!.sorted().map { .string(c.runs[$0].id) }))
                            })
                    ),
                ])) + "\n"
        case .table:
            var t = TextTable([""] + names, rightAligned: Set(1...c.runs.count))
            for k in c.differingParams { t.add(["param " + k] + c.runs.map { $0.params[k] ?? "-" }) }
            for m in c.metrics { t.add([m] + c.runs.indices.map { cell(m, $0) }) }
            return t.render() + "* best per metric\n"
        case .markdown:
            var s = "| | " + names.map(Self.markdownCell).joined(separator: " | ") + " |\n"
            s += "|---|" + String(repeating: "---:|", count: c.runs.count) + "\n"
            for k in c.differingParams {
                s +=
                    "| param `\(k)` | " + c.runs.map { Self.markdownCell($0.params[k] ?? "-") }.joined(separator: " | ")
                    + " |\n"
            }
            for m in c.metrics {
                s +=
                    "| \(m) | "
                    + c.runs.indices.map { i in
                        let v = RunsOutput.number(c.runs[i].metrics[m])
                        return c.best[m]?.contains(i) == true ? "**\(v)**" : v
                    }.joined(separator: " | ") + " |\n"
            }
            return s
        }
    }

    static func markdownCell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
}

/// The HTML comparison: the table, overlaid ROC curves and validation learning curves.
enum CompareReport {
    static func html(_ c: RunComparison, store: TrackingStore) throws -> String {
        // Per-segment metrics are many and secondary: they fold away below the others.
        func table(_ metrics: [String], params: Bool) -> String {
            var rows: [[String]] = []
            var classes: [[Int]: String] = [:]
            if params {
                for k in c.differingParams { rows.append(["param " + k] + c.runs.map { $0.params[k] ?? "-" }) }
            }
            for m in metrics {
                for i in c.best[m] ?? [] { classes[[rows.count, i + 1]] = "best" }
                rows.append([m] + c.runs.map { RunsOutput.number($0.metrics[m]) })
            }
            return HTML.table([""] + c.runs.map { "\($0.name) (\($0.id.prefix(8)))" }, rows, classes: classes)
        }
        let segmentMetrics = c.metrics.filter { $0.hasPrefix("segment.") }
        var b = "<h1>Comparison of \(c.runs.count) runs</h1>"
        b += "<p class=\"summary\">\(HTML.escape(summary(c)))</p><div class=\"charts\">"
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
    static func summary(_ c: RunComparison) -> String {
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
                    "\($0.name) \(RunsOutput.number($0.metrics[m])) (\(Self.signed($0.metrics[m]! - best.metrics[m]!)))"
                }
                parts.append(
                    best.metrics[m] == ranked[1].metrics[m]
                        ? "On \(m) the best runs tie at \(RunsOutput.number(best.metrics[m]))."
                        : "On \(m), \(best.name) leads with \(RunsOutput.number(best.metrics[m])); \(others.joined(separator: ", "))."
                )
            }
        }
        return parts.joined(separator: " ")
    }

    static func signed(_ x: Double) -> String { (x >= 0 ? "+" : "−") + Progress.fixed(abs(x), 4) }
}
