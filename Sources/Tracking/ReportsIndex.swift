import FsmlCore

/// The page that opens a reports folder: the verdict of every check found there, the runs, tuning
/// studies and explanations it holds with their headline numbers, and a link to every file.
public struct ReportsIndex {
    /// A check's verdict, read from the JSON report it wrote beside its HTML one.
    public struct Check: Equatable {
        public var name: String
        public var passed: Bool
        public var detail: String
        public var report: String
    }

    /// A run, study or explanation shown with a link to its own page.
    public struct Entry: Equatable {
        public enum Kind: String { case run, study, explanation }
        public var kind: Kind
        public var name: String
        public var page: String
        public var summary: String

        public init(kind: Kind, name: String, page: String, summary: String) {
            self.kind = kind
            self.name = name
            self.page = page
            self.summary = summary
        }
    }

    public var checks: [Check] = []
    public var entries: [Entry] = []
    /// (what, measure, value)
    public var headlines: [[String]] = []
    /// Every file in the folder, linked at the end.
    public var files: [String] = []

    public init() {}

    /// The checks, explanations and load and parity headlines whose JSON reports are in `dir`.
    public static func reading(_ dir: String, files: [String]) -> ReportsIndex {
        var index = ReportsIndex()
        index.files = files.filter {
            ($0.hasSuffix(".html") || $0.hasSuffix(".md") || $0.hasSuffix(".json")) && $0 != "index.html"
        }
        index.checks = checks(in: dir)
        if let parity = json("\(dir)/parity.json") {
            index.headlines.append([
                "parity", "mismatches / values compared",
                "\(parity["mismatches"]?.int ?? -1) / \(parity["compared"]?.int ?? -1)",
            ])
        }
        for f in files where f.hasPrefix("serve-load-") && f.hasSuffix(".json") {
            guard let load = json("\(dir)/\(f)") else { continue }
            let errors = load["errors"]?.object?.reduce(0) { $0 + ($1.1.int ?? 0) } ?? 0
            index.headlines.append([
                "serve \(f.dropFirst("serve-load-".count).dropLast(5))", "achieved req/s · p50 · p99 · errors",
                "\(Progress.fixed(load["achieved_rps"]?.double ?? 0, 0)) · "
                    + "\(Progress.fixed(load["p50_ms"]?.double ?? 0, 2)) ms · "
                    + "\(Progress.fixed(load["p99_ms"]?.double ?? 0, 2)) ms · \(errors)",
            ])
        }
        for f in files where f.hasPrefix("explain") && f.hasSuffix(".json") {
            guard let e = json("\(dir)/\(f)"), let page = e["report"]?.string else { continue }
            let top = (e["importance"]?.array ?? []).prefix(3).compactMap { $0["feature"]?.string }
            index.entries.append(
                Entry(
                    kind: .explanation, name: e["model"]?.string ?? f, page: page,
                    summary: "\(e["rows"]?.int ?? 0) rows; top features by mean |SHAP|: "
                        + top.joined(separator: ", ")))
        }
        return index
    }

    /// The verdicts of the checks whose reports are in `dir`: parity, validate, skew, drift.
    public static func checks(in dir: String) -> [Check] {
        var out: [Check] = []
        if let parity = json("\(dir)/parity.json"), let passed = parity["passed"]?.bool {
            out.append(
                Check(
                    name: "parity", passed: passed,
                    detail: "\(parity["mismatches"]?.int ?? 0) mismatches in \(parity["compared"]?.int ?? 0) values",
                    report: "parity.html"))
        }
        if let validate = json("\(dir)/validate.json"), let passed = validate["passed"]?.bool {
            let expectations = validate["expectations"]?.array ?? []
            let failed = expectations.filter { $0["passed"]?.bool == false }
            out.append(
                Check(
                    name: "validate", passed: passed,
                    detail: failed.isEmpty
                        ? "\(expectations.count) expectations met"
                        : failed.map { "\($0["column"]?.string ?? "?") \($0["check"]?.string ?? "?")" }.joined(
                            separator: ", "),
                    report: "validate.html"))
        }
        for name in ["skew", "drift"] {
            guard let report = json("\(dir)/\(name).json") else { continue }
            let features = report["features"]?.array ?? []
            let flagged = features.filter { $0["flagged"]?.bool == true }.compactMap { $0["feature"]?.string }
            out.append(
                Check(
                    name: name, passed: report["passed"]?.bool ?? flagged.isEmpty,
                    detail: flagged.isEmpty
                        ? "\(features.count) features, none flagged"
                        : "\(flagged.count) of \(features.count) features flagged: \(flagged.joined(separator: ", "))",
                    report: "\(name).html"))
        }
        return out
    }

    /// A tracked run's entry and headlines; a tuning study (a parent run of trials) shows its best
    /// and baseline values instead of a model's metrics.
    public mutating func add(_ run: RunRecord, page: String) {
        let label = "\(run.name)@\(run.id.prefix(8))"
        if run.tags["fsml.tune.role"] == "study" {
            let best = run.metrics.filter { $0.key.hasPrefix("best_") && $0.key != "best_trial" }.sorted {
                $0.key < $1.key
            }
            var summary = best.map { "\($0.key) \(Progress.fixed($0.value, 4))" }
            for (key, value) in run.metrics.sorted(by: { $0.key < $1.key }) where key.hasPrefix("baseline_") {
                summary.append("\(key) \(Progress.fixed(value, 4))")
            }
            if let trials = run.metrics["trials_complete"] { summary.append("\(Int(trials)) trials complete") }
            entries.append(Entry(kind: .study, name: label, page: page, summary: summary.joined(separator: "; ")))
            for (key, value) in best { headlines.append(["study \(label)", key, Progress.fixed(value, 4)]) }
            return
        }
        let keys = ["valid_auc", "valid_pr_auc", "valid_logloss", "valid_ece", "valid_lift_at_1pct"]
        var shown = keys.compactMap { key in run.metrics[key].map { (key, $0) } }
        if shown.isEmpty {
            // A model trained on every row (a study's best, retrained) has no validation slice.
            shown = run.metrics.filter { $0.key.hasPrefix("cv_") || $0.key.hasPrefix("train_") }
                .sorted { ($0.key.hasPrefix("cv_") ? 0 : 1, $0.key) < ($1.key.hasPrefix("cv_") ? 0 : 1, $1.key) }
                .prefix(3).map { ($0.key, $0.value) }
        }
        entries.append(
            Entry(
                kind: .run, name: label, page: page,
                summary: shown.map { "\($0.0) \(Progress.fixed($0.1, 4))" }.joined(separator: "; ")))
        for (key, value) in shown { headlines.append(["model \(label)", key, Progress.fixed(value, 4)]) }
    }

    public func html(generatedAt: Micros) -> String {
        var body = "<h1>fsml reports</h1><p class=\"muted\">\(HTML.escape(Timestamp.format(generatedAt)))</p>"
        if !checks.isEmpty {
            let failed = checks.filter { !$0.passed }
            body += "<p class=\"summary\">"
            body +=
                failed.isEmpty
                ? "Every check passed (\(checks.map(\.name).joined(separator: ", ")))."
                : "<b>\(failed.count) of \(checks.count) checks failed</b>: \(failed.map(\.name).joined(separator: ", "))."
            body += "</p><h2>Checks</h2><table><tr><th class=\"l\">check</th><th class=\"l\">verdict</th>"
            body += "<th class=\"l\">detail</th></tr>"
            for c in checks {
                body += "<tr><td class=\"l\"><a href=\"\(HTML.escape(c.report))\">\(HTML.escape(c.name))</a></td>"
                body += "<td class=\"l \(c.passed ? "passed" : "failed")\">\(c.passed ? "passed" : "FAILED")</td>"
                body += "<td class=\"l\">\(HTML.escape(c.detail))</td></tr>"
            }
            body += "</table>"
        }
        if !entries.isEmpty {
            body += "<h2>Runs, studies and explanations</h2><table><tr><th class=\"l\">kind</th>"
            body += "<th class=\"l\">name</th><th class=\"l\">summary</th></tr>"
            for e in entries {
                body += "<tr><td class=\"l\">\(e.kind.rawValue)</td>"
                body += "<td class=\"l\"><a href=\"\(HTML.escape(e.page))\">\(HTML.escape(e.name))</a></td>"
                body += "<td class=\"l\">\(HTML.escape(e.summary))</td></tr>"
            }
            body += "</table>"
        }
        body += "<h2>Headlines</h2>" + HTML.table(["what", "measure", "value"], headlines, left: [0, 1])
        body += "<h2>Reports</h2><ul>"
        for f in files { body += "<li><a href=\"\(HTML.escape(f))\">\(HTML.escape(f))</a></li>" }
        body += "</ul>"
        return HTML.page(title: "fsml reports", body: body)
    }

    static func json(_ path: String) -> JSONNode? {
        guard let bytes = try? FileSystem.readBytes(path) else { return nil }
        return try? JSONParser.parse(bytes)
    }
}
