import Foundation
import FsmlCore
import Testing

@testable import Tracking

@Suite struct TrackingStoreTests {
    static func temporaryStore() throws -> TrackingStore {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-tracking-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return TrackingStore(root: dir.path)
    }

    @Test func aRunRoundTripsThroughItsSummaryAndThroughMLflowsFolders() throws {
        let store = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let e = try store.experimentCreatingIfNeeded("ctr")
        #expect(e.id.count == 18 && e.id.allSatisfy(\.isNumber))
        #expect(try store.experimentCreatingIfNeeded("ctr").id == e.id)
        let run = try RunWriter(store: store, experiment: e, name: "baseline", tags: ["team": "growth"])
        try run.logParams([("num_leaves", "31"), ("learning_rate", "0.1")])
        try run.logMetricHistory("iter_valid_auc", [(1, 0.70), (2, 0.72), (3, 0.71)])
        try run.logMetrics([("valid_auc", 0.72), ("valid_logloss", 0.45)], step: 0)
        try run.end()

        // Files as MLflow reads them.
        #expect(try FileSystem.readText(run.directory + "/params/num_leaves") == "31")
        #expect(try FileSystem.readText(run.directory + "/tags/mlflow.runName") == "baseline")
        #expect(try FileSystem.readText(run.directory + "/tags/mlflow.source.type") == "LOCAL")
        let lines = try FileSystem.readText(run.directory + "/metrics/iter_valid_auc").split(separator: "\n")
        #expect(lines.count == 3 && lines[1].hasSuffix(" 0.72 2"))

        let listed = store.runs(experiment: e)
        #expect(listed.count == 1)
        let r = listed[0]
        #expect(r.id == run.id && r.name == "baseline" && r.meta.status == .finished && r.meta.endTime != nil)
        #expect(r.params == ["num_leaves": "31", "learning_rate": "0.1"])
        #expect(r.metrics["valid_auc"] == 0.72 && r.metrics["iter_valid_auc"] == 0.71)
        #expect(r.tags["team"] == "growth")

        // Without the summary (a run MLflow wrote), the folders give the same answer.
        try FileManager.default.removeItem(atPath: run.directory + "/fsml-run.json")
        let fromFolders = try store.run(id: run.id, experimentID: e.id)
        #expect(fromFolders.params == r.params && fromFolders.metrics == r.metrics && fromFolders.tags == r.tags)
        #expect(fromFolders.meta.status == .finished)
        #expect(try store.metricHistory(fromFolders, key: "iter_valid_auc").map(\.value) == [0.70, 0.72, 0.71])
    }

    @Test func runsAreFoundByIdPrefixAndNameAndAmbiguityIsAnError() throws {
        let store = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let e = try store.experimentCreatingIfNeeded("ctr")
        let a = try RunWriter(store: store, experiment: e, name: "same")
        try a.end()
        let b = try RunWriter(store: store, experiment: e, name: "same")
        try b.end()
        let c = try RunWriter(store: store, experiment: e, name: "other")
        try c.end()
        #expect(try store.findRun(a.id).id == a.id)
        #expect(try store.findRun(String(b.id.prefix(10))).id == b.id)
        #expect(try store.findRun("other", experiment: "ctr").id == c.id)
        #expect(throws: TrackingError.self) { try store.findRun("same") }
        #expect(throws: TrackingError.self) { try store.findRun("nothing") }
    }

    @Test func namesThatWouldEscapeTheFolderAreRefused() throws {
        let store = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        for bad in ["", "..", "a/b", "../x", "tab\there", "nl\n"] {
            #expect(throws: TrackingNames.Invalid.self) { try store.experimentCreatingIfNeeded(bad) }
        }
        let e = try store.experimentCreatingIfNeeded("ok name")
        #expect(throws: TrackingNames.Invalid.self) { try RunWriter(store: store, experiment: e, name: "../up") }
        let run = try RunWriter(store: store, experiment: e, name: "r")
        for key in ["../escape", "/abs", "a//b", "semi;colon", ""] {
            #expect(throws: TrackingNames.Invalid.self) { try run.logParams([(key, "1")]) }
        }
        try run.logParams([("a", "1")])
        #expect(throws: TrackingError.self) { try run.logParams([("a", "2")]) }  // params never change
        try run.end()
        #expect(throws: TrackingError.self) { try store.experiment(id: "../etc") }
        #expect(TrackingNames.keySafe("Côte d'Ivoire/x") == "C_te_d_Ivoire_x")
    }

    @Test func aliasesDeleteAndRestore() throws {
        let store = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let e = try store.experimentCreatingIfNeeded("ctr")
        let a = try RunWriter(store: store, experiment: e, name: "a")
        try a.end()
        let b = try RunWriter(store: store, experiment: e, name: "b")
        try b.end()
        try store.setAlias("production", run: a.snapshot)
        #expect(try store.run(alias: "production", experiment: e).id == a.id)
        try store.setAlias("production", run: b.snapshot)
        #expect(try store.run(alias: "production", experiment: e).id == b.id)
        #expect(try FileSystem.readText("\(store.root)/\(e.id)/tags/fsml.alias.production") == b.id)
        #expect(throws: TrackingError.self) { try store.run(alias: "staging", experiment: e) }

        try store.delete(store.findRun(a.id))
        #expect(store.runs(experiment: e).map(\.id) == [b.id])
        let trashed = "\(store.root)/.trash/fsml-deleted-runs/\(a.id)"
        let trashedMeta = try RunMeta(yaml: try FileSystem.readText(trashed + "/meta.yaml"), file: "m")
        #expect(trashedMeta.lifecycleStage == "deleted" && trashedMeta.experimentID == "fsml-deleted-runs")
        #expect(
            try ExperimentMeta(yaml: FileSystem.readText("\(store.root)/.trash/fsml-deleted-runs/meta.yaml"), file: "m")
                .lifecycleStage == "deleted")
        let restored = try store.restore(runID: a.id)
        #expect(restored.meta.lifecycleStage == "active" && restored.meta.experimentID == e.id)
        #expect(restored.tags["fsml.deleted_from"] == nil)
        #expect(Set(store.runs(experiment: e).map(\.id)) == [a.id, b.id])
    }

    /// A RUNNING run whose process is gone reads as FAILED, and is written so.
    @Test func aRunWhoseWriterDiedIsFailedNotRunningForever() throws {
        let store = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let e = try store.experimentCreatingIfNeeded("ctr")
        let live = try RunWriter(store: store, experiment: e, name: "live")
        #expect(try store.run(id: live.id, experimentID: e.id).meta.status == .running)

        // A child process that has exited stands for a killed trainer.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        var dead = live.snapshot
        dead.meta.runID = TrackingNames.newRunID()
        dead.directory = "\(store.root)/\(e.id)/\(dead.meta.runID)"
        dead.pid = child.processIdentifier
        try FileSystem.createDirectory(dead.directory + "/tags")
        try FileSystem.writeAtomically(dead.meta.yaml(), to: dead.directory + "/meta.yaml")
        try FileSystem.writeAtomically(JSONText.render(RunSummary.json(dead)), to: dead.directory + "/fsml-run.json")

        // Another host's run: only a stale heartbeat tells.
        var remote = dead
        remote.meta.runID = TrackingNames.newRunID()
        remote.directory = "\(store.root)/\(e.id)/\(remote.meta.runID)"
        remote.host = "elsewhere"
        remote.heartbeat = epochMillis() - RunLiveness.staleAfterMillis - 1000
        try FileSystem.createDirectory(remote.directory + "/tags")
        try FileSystem.writeAtomically(remote.meta.yaml(), to: remote.directory + "/meta.yaml")
        try FileSystem.writeAtomically(
            JSONText.render(RunSummary.json(remote)), to: remote.directory + "/fsml-run.json")

        let status = Dictionary(uniqueKeysWithValues: store.runs(experiment: e).map { ($0.id, $0.meta.status) })
        #expect(status == [live.id: .running, dead.id: .failed, remote.id: .failed])
        let meta = try RunMeta(yaml: try FileSystem.readText(dead.directory + "/meta.yaml"), file: "m")
        #expect(meta.status == .failed && meta.endTime != nil)
        #expect(FileSystem.exists(dead.directory + "/tags/fsml.failure"))
        try live.end()
    }

    /// A store that cannot be read says why (here: not a directory; in a server out of file
    /// descriptors: too many open files), instead of seeming to have no such experiment.
    @Test func anUnreadableStoreIsNotAnEmptyOne() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-not-a-dir-\(UUID())").path
        FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect {
            _ = try TrackingStore(root: file).experiment("ctr")
        } throws: { "\($0)".contains("cannot read") && "\($0)".contains("Not a directory") }
        let missing = TrackingStore(root: file + "-missing")
        #expect { _ = try missing.experiment("ctr") } throws: { "\($0)".contains("no experiment named 'ctr'") }
    }
}
