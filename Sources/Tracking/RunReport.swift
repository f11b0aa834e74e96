import FsmlCore
import GBDT

/// A run's report: one self-contained HTML file (inline SVG) with what a reviewer looks at before
/// promoting a model.
public struct RunReport {
    public var run: RunRecord
    /// Per-iteration curves: metric name → (iteration, train value, validation value).
    public var learningCurves: [(metric: String, train: [(x: Double, y: Double)], valid: [(x: Double, y: Double)])]
    public var evaluation: EvaluationFile
    public var importance: [(feature: String, split: Double, gain: Double)]
    public var manifest: String?
    public var title: String

    public init(
        run: RunRecord,
        learningCurves: [(metric: String, train: [(x: Double, y: Double)], valid: [(x: Double, y: Double)])],
        evaluation: EvaluationFile, importance: [(feature: String, split: Double, gain: Double)], manifest: String?,
        title: String? = nil
    ) {
        self.run = run
        self.learningCurves = learningCurves
        self.evaluation = evaluation
        self.importance = importance
        self.manifest = manifest
        self.title = title ?? "Run \(run.name)"
    }

    public func html() -> String {
        let e = evaluation.evaluation
        var b = "<h1>\(HTML.escape(title))</h1>"
        b += "<p class=\"muted\">run \(run.id) · experiment \(HTML.escape(run.experimentName)) · "
        b += "\(Timestamp.format(run.meta.startTime * 1000)) · status \(run.meta.status.name)"
        if let end = run.meta.endTime { b += " after \(Progress.fixed(Double(end - run.meta.startTime) / 1000, 1)) s" }
        b += "</p>"
        b += "<p class=\"summary\">\(HTML.escape(summary))</p>"
        b += "<h2>Evaluation on \(Progress.count(e.rows)) rows (base rate \(Progress.fixed(e.baseRate, 4)))</h2>"
        b += HTML.table(["metric", "value"], e.metrics.map { [$0.0, Self.format($0.1)] })
        b += "<div class=\"charts\">"
        for curve in learningCurves {
            b += SVGChart.lines(
                title: "Learning curve: \(curve.metric)", x: "iteration", y: curve.metric,
                series: [
                    ChartSeries(name: "train", points: curve.train),
                    ChartSeries(name: "validation", points: curve.valid),
                ])
        }
        b += SVGChart.lines(
            title: "ROC (AUC \(Progress.fixed(e.auc, 4)))", x: "false positive rate", y: "true positive rate",
            series: [ChartSeries(name: "model", points: e.roc.map { ($0.x, $0.y) })], xRange: 0...1, yRange: 0...1,
            diagonal: true)
        b += SVGChart.lines(
            title: "Precision-recall (PR-AUC \(Progress.fixed(e.prAUC, 4)))", x: "recall", y: "precision",
            series: [
                ChartSeries(name: "model", points: e.pr.map { ($0.x, $0.y) }),
                ChartSeries(name: "base rate", points: [(0, e.baseRate), (1, e.baseRate)], dashed: true),
            ], xRange: 0...1, yRange: 0...1)
        // Before and after, when the model was calibrated on a held-out slice.
        let curves = [
            (evaluation.uncalibrated, "uncalibrated"), (e, evaluation.uncalibrated == nil ? "model" : "calibrated"),
        ]
        .compactMap { entry in entry.0.map { ($0, entry.1) } }
        let top = curves.flatMap { c in c.0.reliability.flatMap { [$0.meanPredicted, $0.observedRate] } }.max() ?? 1
        let upper = min(1, max(0.05, top * 1.1))
        let title =
            evaluation.uncalibrated.map {
                "Calibration (ECE \(Progress.fixed($0.ece, 4)) → \(Progress.fixed(e.ece, 4)))"
            } ?? "Calibration (ECE \(Progress.fixed(e.ece, 4)))"
        b += SVGChart.lines(
            title: title, x: "mean prediction", y: "observed rate",
            series: curves.map { c in
                ChartSeries(
                    name: c.1, points: c.0.reliability.map { ($0.meanPredicted, $0.observedRate) },
                    dashed: c.1 == "uncalibrated")
            }, xRange: 0...upper, yRange: 0...upper, diagonal: true)
        let shown = importance.sorted { $0.gain > $1.gain }.prefix(25)
        if !shown.isEmpty {
            b += SVGChart.bars(
                title: "Feature importance (total gain)", labels: shown.map(\.feature), values: shown.map(\.gain))
        }
        b += "</div>"
        b += "<h2>Calibration bins</h2>"
        b += HTML.table(
            ["predicted range", "rows", "mean prediction", "observed rate"],
            e.reliability.map {
                [
                    "\(Progress.fixed($0.lower, 1))–\(Progress.fixed($0.upper, 1))", Progress.count($0.count),
                    Progress.fixed($0.meanPredicted, 4), Progress.fixed($0.observedRate, 4),
                ]
            })
        b += errorAnalysis(overallAUC: e.auc)
        b += "<h2>Parameters</h2>"
        b += HTML.table(["param", "value"], run.params.keys.sorted().map { [$0, run.params[$0]!] }, left: [0, 1])
        b += "<h2>Tags</h2>"
        b += HTML.table(
            ["tag", "value"], run.tags.keys.sorted().filter { !$0.hasPrefix("mlflow.") }.map { [$0, run.tags[$0]!] },
            left: [0, 1])
        if let manifest {
            b += "<h2>Dataset manifest</h2><pre>\(HTML.escape(manifest))</pre>"
        }
        return HTML.page(title: title, body: b)
    }

    /// The headline and what to look at: the held-out AUC, calibration, the weakest segment, the
    /// feature the model leans on most.
    public var summary: String {
        let e = evaluation.evaluation
        var parts = [
            "AUC \(Progress.fixed(e.auc, 4)), PR-AUC \(Progress.fixed(e.prAUC, 4)) and logloss \(Progress.fixed(e.logloss, 4)) on \(Progress.count(e.rows)) held-out rows (base rate \(Progress.fixed(e.baseRate * 100, 1)) %)."
        ]
        if let before = evaluation.uncalibrated {
            parts.append("Calibration took ECE from \(Progress.fixed(before.ece, 4)) to \(Progress.fixed(e.ece, 4)).")
        } else {
            parts.append("ECE \(Progress.fixed(e.ece, 4)).")
        }
        let segments = evaluation.segments.flatMap { column, results in results.map { (column, $0) } }
        if let weakest = segments.filter({ $0.1.auc.isFinite }).min(by: { $0.1.auc < $1.1.auc }) {
            parts.append(
                "Weakest segment: \(weakest.0) = \(weakest.1.value) (AUC \(Progress.fixed(weakest.1.auc, 4)), \(Progress.count(weakest.1.rows)) rows)."
            )
        }
        if let top = importance.max(by: { $0.gain < $1.gain }), top.gain > 0 {
            let total = importance.reduce(0) { $0 + $1.gain }
            parts.append(
                "\(top.feature) carries \(Progress.fixed(100 * top.gain / max(total, 1e-300), 0)) % of the split gain.")
        }
        return parts.joined(separator: " ")
    }

    /// Every segment of every segment column, worst AUC first, with 95 % bootstrap intervals;
    /// a segment whose whole interval lies below the model's AUC is marked: weak, not just small.
    func errorAnalysis(overallAUC: Double) -> String {
        let all = evaluation.segments.flatMap { column, results in results.map { (column, $0) } }
        guard !all.isEmpty else { return "" }
        let sorted = all.sorted { ($0.1.auc.isNaN ? 2 : $0.1.auc) < ($1.1.auc.isNaN ? 2 : $1.1.auc) }
        func interval(_ i: Interval?) -> String {
            i.map { "\(Progress.fixed($0.lower, 4))–\(Progress.fixed($0.upper, 4))" } ?? "-"
        }
        var classes: [[Int]: String] = [:]
        let rows = sorted.enumerated().map { k, entry -> [String] in
            let (column, r) = entry
            let weak = (r.aucInterval?.upper ?? .infinity) < overallAUC
            if weak { classes[[k, 7]] = "failed" }
            return [
                column, r.value, Progress.count(r.rows), Progress.count(r.positives), Self.format(r.auc),
                interval(r.aucInterval), Self.format(r.logloss), weak ? "below the model's AUC" : "",
            ]
        }
        let weak = rows.filter { !$0[7].isEmpty }
        var b = "<h2>Error analysis: segments, worst AUC first</h2><p class=\"summary\">"
        b +=
            weak.isEmpty
            ? "No segment is reliably worse than the model as a whole (AUC \(Self.format(overallAUC)))."
            : "\(weak.count) segments are reliably worse than the model as a whole (AUC \(Self.format(overallAUC))): "
                + HTML.escape(weak.prefix(5).map { "\($0[0]) = \($0[1])" }.joined(separator: ", ")) + "."
        b += " Intervals: 95 % bootstrap over each segment's rows.</p>"
        b += HTML.table(
            ["column", "value", "rows", "positives", "AUC", "AUC 95 % CI", "logloss", ""], rows, left: [0, 1, 7],
            classes: classes)
        return b
    }

    static func format(_ x: Double) -> String {
        guard x.isFinite else { return "-" }
        return x == x.rounded() && abs(x) < 1e9 ? String(Int(x)) : Progress.fixed(x, 5)
    }
}
