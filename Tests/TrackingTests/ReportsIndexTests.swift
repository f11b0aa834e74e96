import Foundation
import FsmlCore
import Testing

@testable import Tracking

/// The reports index: checks read from their JSON reports, runs and studies from the store,
/// explanations from their summaries, each linked to its page.
@Suite struct ReportsIndexTests {
    @Test func studiesRunsAndExplanationsAreListedWithTheirHeadlines() throws {
        let store = try TrackingStoreTests.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let e = try store.experimentCreatingIfNeeded("ctr")
        let study = try RunWriter(store: store, experiment: e, name: "s1", tags: ["fsml.tune.role": "study"])
        try study.logMetrics(
            [("best_valid_auc", 0.71234), ("best_trial", 3), ("baseline_valid_auc", 0.7), ("trials_complete", 12)],
            step: 0)
        try study.end()
        let model = try RunWriter(store: store, experiment: e, name: "m1")
        try model.logMetrics([("valid_auc", 0.69), ("valid_logloss", 0.41), ("train_auc", 0.8)], step: 0)
        try model.end()
        let retrained = try RunWriter(store: store, experiment: e, name: "m2")
        try retrained.logMetrics([("train_auc", 0.81), ("cv_valid_auc", 0.7)], step: 0)
        try retrained.end()

        let dir = store.root + "/reports"
        try FileSystem.createDirectory(dir)
        try FileSystem.writeAtomically(
            #"{"model": "m.json", "rows": 40, "report": "explain.html", "importance": [{"feature": "b"}, {"feature": "a"}, {"feature": "c"}, {"feature": "d"}]}"#,
            to: dir + "/explain.json")
        try FileSystem.writeAtomically(#"{"passed": false, "mismatches": 2, "compared": 10}"#, to: dir + "/parity.json")
        var index = ReportsIndex.reading(dir, files: ["explain.html", "explain.json", "index.html", "parity.json"])
        index.add(study.snapshot, page: "study-s1.html")
        index.add(model.snapshot, page: "run-m1.html")
        index.add(retrained.snapshot, page: "run-m2.html")

        #expect(index.files == ["explain.html", "explain.json", "parity.json"])
        #expect(
            index.checks == [
                .init(name: "parity", passed: false, detail: "2 mismatches in 10 values", report: "parity.html")
            ])
        #expect(
            index.entries.map(\.summary) == [
                "40 rows; top features by mean |SHAP|: b, a, c",
                "best_valid_auc 0.7123; baseline_valid_auc 0.7000; 12 trials complete",
                "valid_auc 0.6900; valid_logloss 0.4100",
                "cv_valid_auc 0.7000; train_auc 0.8100",
            ])
        #expect(index.entries.map(\.kind) == [.explanation, .study, .run, .run])
        #expect(index.headlines.contains(["study s1@\(study.id.prefix(8))", "best_valid_auc", "0.7123"]))
        let html = index.html(generatedAt: 0)
        #expect(html.contains("1 of 1 checks failed</b>: parity."))
        #expect(html.contains("<a href=\"study-s1.html\">s1@\(study.id.prefix(8))</a>"))
        #expect(html.contains("<a href=\"explain.html\">m.json</a>"))
    }
}
