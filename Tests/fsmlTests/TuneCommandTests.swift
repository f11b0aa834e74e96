import Foundation
import FsmlCore
import FsmlTestSupport
import Testing
import Tracking

@Suite struct TuneCommandTests {
    /// A small shop dataset built the way a user builds one: init, generate, ingest, build.
    static func dataset(in dir: String) throws {
        #expect(try BinaryRunner.run(["init"], in: dir).status == 0)
        let gen = try BinaryRunner.run(
            [
                "generate", "events", "--events", "20000", "--users", "300", "--products", "50", "--days", "3",
                "--seed", "9", "--out", "events.jsonl.gz",
            ], in: dir)
        #expect(gen.status == 0)
        #expect(try BinaryRunner.run(["ingest", "--source", "file:events.jsonl.gz"], in: dir).status == 0)
        let build = try BinaryRunner.run(["build", "--out", "ds.parquet"], in: dir)
        #expect(build.status == 0, "\(build.stderr)")
    }

    static func tune(_ dir: String, tracking: String, parallel: Int, extra: [String] = []) throws -> BinaryRunner.Output
    {
        try BinaryRunner.run(
            [
                "tune", "--experiment", "ctr-tune", "--dataset", "ds.parquet", "--space",
                "learning_rate=loguniform(0.05,0.5) num_leaves=int(4,16)", "--space",
                "min_data_in_leaf=choice(5,20,50)",
                "--trials", "5", "--cv", "2", "--pruner", "halving", "--startup-trials", "2", "--batch", "2",
                "--param", "num_iterations=18", "--param", "max_bin=32", "--min-rounds", "6", "--seed", "4",
                "--parallel", "\(parallel)", "--tracking-dir", tracking, "--format", "json",
            ] + extra, in: dir)
    }

    @Test func aStudyIsAParentRunWithOneChildRunPerTrialAndPromotesItsBest() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.dataset(in: dir)
        let tracking = TrackingCommandTests.trackingDir(dir)
        let out = try Self.tune(
            dir, tracking: tracking, parallel: 2, extra: ["--promote", "staging", "--run-name", "study-a"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stderr.contains("fold 2:") && out.stderr.contains("tune: trial 4"))
        let result = try TrackingCommandTests.json(out.stdout)
        let parentID = result["run_id"] as! String
        #expect(result["trials"] as? Int == 5)
        let best = result["best_value"] as! Double
        #expect(best > 0.5 && best <= 1)

        let store = TrackingStore(root: tracking)
        let parent = try store.findRun(parentID)
        #expect(parent.meta.status == .finished && parent.tags["fsml.tune.role"] == "study")
        #expect(parent.params["tune.cv"] == "2" && parent.params["space.num_leaves"] == "int(4, 16)")
        // (Foundation's JSON reader on Linux may be off by an ulp, hence the tolerances.)
        #expect(parent.params["best.num_leaves"] != nil && abs(parent.metrics["best_valid_auc"]! - best) < 1e-12)
        #expect(parent.metrics["baseline_valid_auc"] != nil)
        for artifact in ["study.json", "report.html"] {
            #expect(FileSystem.exists(parent.artifactsDirectory + "/" + artifact), "\(artifact)")
        }
        let report = try FileSystem.readText(parent.artifactsDirectory + "/report.html")
        #expect(report.contains("Optimisation history") && report.contains("best so far"))
        #expect(!report.contains("<script") && !report.contains("https://"))
        let study = try TrackingCommandTests.json(try FileSystem.readText(parent.artifactsDirectory + "/study.json"))
        #expect((study["trials"] as! [[String: Any]]).count == 5 && (study["folds"] as! [Any]).count == 2)

        let children = store.runs().filter { $0.tags["mlflow.parentRunId"] == parentID }
        let trials = children.filter { $0.tags["fsml.tune.role"] == "trial" }
        #expect(trials.count == 5)
        for t in trials {
            let state = t.tags["fsml.tune.state"]
            #expect(state == "COMPLETE" || state == "PRUNED")
            #expect(t.meta.status == (state == "PRUNED" ? .killed : .finished))
            #expect(t.params["learning_rate"] != nil && t.metrics["fold_1_valid_auc"] != nil)
            if state == "COMPLETE" { #expect(t.metrics["valid_auc"] != nil && t.metrics["fold_2_valid_auc"] != nil) }
        }
        let bestRun = trials.first { $0.id == result["best_run_id"] as? String }
        #expect(abs(bestRun!.metrics["valid_auc"]! - best) < 1e-12)

        // The best parameters retrained on every row, logged and promoted.
        let promoted = children.first { $0.tags["fsml.tune.role"] == "best" }!
        #expect(promoted.id == result["promoted_run_id"] as? String && promoted.meta.status == .finished)
        let e = try store.experiment("ctr-tune")
        #expect(store.aliases(e)["staging"] == promoted.id)
        #expect(FileSystem.exists(promoted.artifactsDirectory + "/model.json"))

        // The reports index features the study: its page copied in, its best value beside it.
        let reports = try BinaryRunner.run(
            ["reports", "--dir", "reports", "--run", parentID, "--run", promoted.id, "--tracking-dir", tracking],
            in: dir)
        #expect(reports.status == 0, "\(reports.stderr)")
        #expect(
            reports.stdout.contains("study study-a@\(parentID.prefix(8)): best_valid_auc \(Progress.fixed(best, 4))"))
        #expect(reports.stdout.contains("run \(promoted.name)@\(promoted.id.prefix(8)): cv_valid_auc"))
        let index = try FileSystem.readText("\(dir)/reports/index.html")
        #expect(
            index.contains("<a href=\"study-study-a.html\">study-a@")
                && FileSystem.exists("\(dir)/reports/study-study-a.html"))

        // The same seed at another parallelism: the same trials, value for value.
        let again = try Self.tune(dir, tracking: tracking, parallel: 1, extra: ["--no-baseline"])
        #expect(again.status == 0, "\(again.stderr)")
        let second = try TrackingCommandTests.json(again.stdout)
        #expect(second["trial_values"] as! [Double] == result["trial_values"] as! [Double])
        #expect(second["best_params"] as! [String: String] == result["best_params"] as! [String: String])
    }

    @Test func refusesASpaceOfUnknownParametersBeforeAnyRun() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try BinaryRunner.run(
            ["tune", "--experiment", "x", "--space", "leaves=int(2,8)", "--tracking-dir", "\(dir)/exp"], in: dir)
        #expect(out.status == 1 && out.stderr.contains("unknown parameter 'leaves'"), "\(out.stderr)")
        let both = try BinaryRunner.run(["tune", "--experiment", "x"], in: dir)
        #expect(both.status == 64 && both.stderr.contains("--space or --space-file"))
    }
}
