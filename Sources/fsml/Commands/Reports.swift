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
        var body = "<h1>fsml reports</h1><p class=\"muted\">\(HTML.escape(Timestamp.format(wallClockMicros())))</p>"
        body += HTML.table(["what", "measure", "value"], headlines, left: [0, 1])
        body += "<h2>Reports</h2><ul>"
        for f in files where (f.hasSuffix(".html") || f.hasSuffix(".md") || f.hasSuffix(".json")) && f != "index.html" {
            body += "<li><a href=\"\(HTML.escape(f))\">\(HTML.escape(f))</a></li>"
        }
        body += "</ul>"
        try FileSystem.writeAtomically(HTML.page(title: "fsml reports", body: body), to: "\(dir)/index.html")
        StandardOutput.write(
            headlines.map { "\($0[0]): \($0[1]) = \($0[2])" }.joined(separator: "\n") + (headlines.isEmpty ? "" : "\n"))
        StandardOutput.write("reports: \(dir)/index.html\n")
    }

    static func json(_ path: String) -> JSONNode? {
        guard let bytes = try? FileSystem.readBytes(path) else { return nil }
        return try? JSONParser.parse(bytes)
    }
}
