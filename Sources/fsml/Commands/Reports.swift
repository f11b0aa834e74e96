import ArgumentParser
import Foundation
import FsmlCore
import Tracking

struct Reports: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write index.html in a reports folder: every check's verdict, runs, studies, explanations.",
        discussion: """
            Verdicts and headlines come from the JSON reports found there (parity.json, validate.json, skew.json, \
            drift.json, serve-load-*.json, explain.json); each --run is copied in beside them: a tracked run's \
            report as run-NAME.html, a tuning study's (the parent run `fsml tune` logs) as study-NAME.html.
            """)

    @Option(help: "The reports folder.") var dir = "artifacts/reports"
    @Option(
        name: .customLong("run"),
        help: "A tracked run or tuning study to feature (its report is copied in; repeatable).")
    var featuredRuns: [String] = []
    @OptionGroup var tracking: TrackingOptions

    func run() throws {
        try FileSystem.createDirectory(dir)
        var copied: [(RunRecord, String)] = []
        for reference in featuredRuns {
            let r = try tracking.store.findRun(reference)
            let page = "\(r.tags["fsml.tune.role"] == "study" ? "study" : "run")-\(r.name).html"
            let report = r.artifactsDirectory + "/report.html"
            if FileSystem.exists(report) {
                try FileSystem.writeAtomically(try FileSystem.readBytes(report), to: "\(dir)/\(page)")
            }
            copied.append((r, page))
        }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        var index = ReportsIndex.reading(dir, files: files)
        for (r, page) in copied { index.add(r, page: page) }
        try FileSystem.writeAtomically(index.html(generatedAt: wallClockMicros()), to: "\(dir)/index.html")
        for c in index.checks {
            StandardOutput.write("check \(c.name): \(c.passed ? "passed" : "FAILED") (\(c.detail))\n")
        }
        for e in index.entries { StandardOutput.write("\(e.kind.rawValue) \(e.name): \(e.summary)\n") }
        StandardOutput.write(
            index.headlines.map { "\($0[0]): \($0[1]) = \($0[2])" }.joined(separator: "\n")
                + (index.headlines.isEmpty ? "" : "\n"))
        StandardOutput.write("reports: \(dir)/index.html\n")
    }
}
