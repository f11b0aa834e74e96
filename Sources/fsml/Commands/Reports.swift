import ArgumentParser
import Foundation
import FsmlCore
import Tracking

struct Reports: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write index.html in a reports folder: every report linked, headline numbers on top.",
        discussion: """
            Headlines come from the JSON reports found there (parity.json, serve-load-*.json, serve-bench.json) \
            and from each --run, whose report is copied in beside the others.
            """)

    @Option(help: "The reports folder.") var dir = "artifacts/reports"
    @Option(name: .customLong("run"), help: "A tracked run to feature (its report is copied in; repeatable).")
    var featuredRuns: [String] = []
    @OptionGroup var tracking: TrackingOptions

    func run() throws {
        try FileSystem.createDirectory(dir)
        var headlines: [[String]] = []
        for reference in featuredRuns {
            let r = try tracking.store.findRun(reference)
            let report = r.artifactsDirectory + "/report.html"
            if FileSystem.exists(report) {
                try FileSystem.writeAtomically(try FileSystem.readBytes(report), to: "\(dir)/run-\(r.name).html")
            }
            for key in ["valid_auc", "valid_pr_auc", "valid_logloss", "valid_ece", "valid_lift_at_1pct"] {
                if let v = r.metrics[key] {
                    headlines.append(["model \(r.name)@\(r.id.prefix(8))", key, Progress.fixed(v, 4)])
                }
            }
        }
        if let parity = Self.json("\(dir)/parity.json") {
            headlines.append([
                "parity", "mismatches / values compared",
                "\(parity["mismatches"]?.int ?? -1) / \(parity["compared"]?.int ?? -1)",
            ])
        }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        for f in files where f.hasPrefix("serve-load-") && f.hasSuffix(".json") {
            guard let load = Self.json("\(dir)/\(f)") else { continue }
            let name = String(f.dropFirst("serve-load-".count).dropLast(5))
            headlines.append([
                "serve \(name)", "achieved req/s · p50 · p99 · errors",
                "\(Progress.fixed(load["achieved_rps"]?.double ?? 0, 0)) · \(Progress.fixed(load["p50_ms"]?.double ?? 0, 2)) ms · \(Progress.fixed(load["p99_ms"]?.double ?? 0, 2)) ms · \(load["errors"]?.object?.reduce(0) { $0 + ($1.1.int ?? 0) } ?? 0)",
            ])
        }
        let checks = Self.checks(in: dir)
        var body = "<h1>fsml reports</h1><p class=\"muted\">\(HTML.escape(Timestamp.format(wallClockMicros())))</p>"
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
        body += "<h2>Headlines</h2>" + HTML.table(["what", "measure", "value"], headlines, left: [0, 1])
        body += "<h2>Reports</h2><ul>"
        for f in files where (f.hasSuffix(".html") || f.hasSuffix(".md") || f.hasSuffix(".json")) && f != "index.html" {
            body += "<li><a href=\"\(HTML.escape(f))\">\(HTML.escape(f))</a></li>"
        }
        body += "</ul>"
        try FileSystem.writeAtomically(HTML.page(title: "fsml reports", body: body), to: "\(dir)/index.html")
        for c in checks { StandardOutput.write("check \(c.name): \(c.passed ? "passed" : "FAILED") (\(c.detail))\n") }
        StandardOutput.write(
            headlines.map { "\($0[0]): \($0[1]) = \($0[2])" }.joined(separator: "\n") + (headlines.isEmpty ? "" : "\n"))
        StandardOutput.write("reports: \(dir)/index.html\n")
    }

    /// A check's verdict, read from the JSON report it wrote beside its HTML one.
    struct Check {
        var name: String
        var passed: Bool
        var detail: String
        var report: String
    }

    /// The verdicts of the checks whose reports are in `dir`: parity, validate, skew, drift.
    static func checks(in dir: String) -> [Check] {
        var out: [Check] = []
        if let parity = json("\(dir)/parity.json"), let passed = parity["passed"]?.bool {
            out.append(
                Check(
                    name: "parity", passed: passed,
                    detail: "\(parity["mismatches"]?.int ?? 0) mismatches in \(parity["compared"]?.int ?? 0) values",
                    report: "parity.html"))
        }
        if let validate = json("\(dir)/validate.json"), let passed = validate["passed"]?.bool {
            let failed = (validate["expectations"]?.array ?? []).filter { $0["passed"]?.bool == false }
            out.append(
                Check(
                    name: "validate", passed: passed,
                    detail: failed.isEmpty
                        ? "\(validate["expectations"]?.array?.count ?? 0) expectations met"
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

    static func json(_ path: String) -> JSONNode? {
        guard let bytes = try? FileSystem.readBytes(path) else { return nil }
        return try? JSONParser.parse(bytes)
    }
}
