import Foundation
import FsmlCore
import FsmlTestSupport
import Testing
import Tracking

@Suite struct TrackingCommandTests {
    static let fixtures = ModelCommandTests.fixtures

    /// Where the MLflow interop check (tests/interop/check_mlflow.py, run by `make test`) reads runs.
    static func trackingDir(_ dir: String) -> String {
        if let interop = ProcessInfo.processInfo.environment["FSML_INTEROP_DIR"] {
            return interop + "/experiments"
        }
        return dir + "/experiments"
    }

    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    @Test func trainFromTheFeatureStoreThenPromoteEvaluateAndList() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tracking = Self.trackingDir(dir)
        _ = try BinaryRunner.run(["init"], in: dir)
        let gen = try BinaryRunner.run(
            [
                "generate", "events", "--events", "30000", "--users", "400", "--products", "60", "--days", "3",
                "--seed", "5", "--out", "events.jsonl.gz",
            ], in: dir)
        #expect(gen.status == 0)
        #expect(try BinaryRunner.run(["ingest", "--source", "file:events.jsonl.gz"], in: dir).status == 0)
        let train = try BinaryRunner.run(
            [
                "train", "--experiment", "ctr-e2e", "--run-name", "baseline", "--param", "num_iterations=15",
                "--tracking-dir", tracking, "--format", "json",
            ], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("split by time at"))
        let result = try Self.json(train.stdout)
        let runID = result["run_id"] as! String
        let metrics = result["metrics"] as! [String: Double]
        #expect(metrics["valid_auc"]! > 0.5 && metrics["valid_auc"]! <= 1)
        #expect(metrics["valid_brier"] != nil && metrics["valid_ece"] != nil && metrics["valid_lift_at_100"] != nil)
        #expect(metrics.keys.contains { $0.hasPrefix("segment.device.os.") })

        let store = TrackingStore(root: tracking)
        let run = try store.findRun(runID)
        #expect(run.meta.status == .finished)
        for artifact in [
            "model.json", "report.html", "evaluation.json", "dataset.manifest.json", "feature_importance.csv",
        ] {
            #expect(FileSystem.exists(run.artifactsDirectory + "/" + artifact), "\(artifact)")
        }
        #expect(run.params["valid_start"] != nil && Int(run.params["valid_rows"]!)! > 0)
        #expect(run.tags["fsml.model.sha256"] == (try SHA256.hex(ofFile: run.artifactsDirectory + "/model.json")))
        #expect(run.tags["fsml.dataset.manifest_sha256"] != nil && run.tags["fsml.feature_hash.user_views_5m"] != nil)
        let report = try FileSystem.readText(run.artifactsDirectory + "/report.html")
        #expect(report.components(separatedBy: "<svg").count - 1 >= 5)  // curves, ROC, PR, calibration, importance
        #expect(!report.contains("<script") && !report.contains("https://"))
        // Written as the run ends, the report says how it ended.
        #expect(report.contains("status FINISHED after") && !report.contains("RUNNING"))
        // Segments worst first, with bootstrap intervals, here and in evaluation.json.
        #expect(report.contains("Error analysis: segments, worst AUC first") && report.contains("AUC 95 % CI"))
        let evaluation = try FileSystem.readText(run.artifactsDirectory + "/evaluation.json")
        #expect(evaluation.contains("\"auc_ci95\""))
        #expect(try store.metricHistory(run, key: "iter_valid_auc").count == 15)

        // Calibrated on the day before validation, held out of training; stored with the model.
        let calibrated = try BinaryRunner.run(
            [
                "train", "--experiment", "ctr-e2e", "--run-name", "calibrated", "--param", "num_iterations=15",
                "--param", "n_iter_no_change=1000", "--calibrate", "isotonic", "--tracking-dir", tracking, "--format",
                "json",
            ], in: dir)
        #expect(calibrated.status == 0, "\(calibrated.stderr)")
        #expect(
            calibrated.stderr.contains("calibration slice from") && calibrated.stderr.contains("isotonic fitted on"))
        let calibratedMetrics = try Self.json(calibrated.stdout)["metrics"] as! [String: Double]
        #expect(calibratedMetrics["valid_ece_uncalibrated"] != nil && calibratedMetrics["valid_ece"] != nil)
        let calibratedRun = try store.findRun(try Self.json(calibrated.stdout)["run_id"] as! String)
        #expect(calibratedRun.params["calibration"] == "isotonic")
        // Early stopping by scikit-learn's name is early stopping: the run's own setting, not the default 20.
        #expect(calibratedRun.params["early_stopping_rounds"] == "1000")
        #expect(Int(calibratedRun.params["train_rows"]!)! < Int(run.params["train_rows"]!)!)
        let info = try BinaryRunner.run(["model", "info", calibratedRun.artifactsDirectory + "/model.json"], in: dir)
        #expect(info.stdout.contains("isotonic calibration"), "\(info.stdout)")
        let calibratedReport = try FileSystem.readText(calibratedRun.artifactsDirectory + "/report.html")
        #expect(
            calibratedReport.contains("data-name=\"uncalibrated\"")
                && calibratedReport.contains("data-name=\"calibrated\""))
        // As a browser renders it: no console message, the charts' series and labels.
        let page = try Browser.render(calibratedRun.artifactsDirectory + "/report.html")
        #expect(page.consoleMessages.isEmpty, "\(page.consoleMessages)")
        #expect(page.screenshotBytes > 10_000)
        #expect(page.seriesNames.contains("uncalibrated") && page.seriesNames.contains("calibrated"))
        #expect(page.seriesNames.filter { $0 == "validation" }.count >= 3)  // one per learning curve
        #expect(!page.texts(class: "tick-y").isEmpty && page.texts(class: "legend").contains("train"))
        #expect(page.barLabels.count >= 3)  // feature importance
        #expect(page.dom.contains("held-out rows (base rate") && page.dom.contains("Calibration took ECE from"))
        let refusedCalibration = try BinaryRunner.run(
            ["train", "--data", "\(Self.fixtures)/binary.train", "--out", "m.json", "--calibrate", "platt"], in: dir)
        #expect(refusedCalibration.status != 0 && refusedCalibration.stderr.contains("--calibrate needs"))

        let promote = try BinaryRunner.run(["runs", "promote", "baseline", "--tracking-dir", tracking], in: dir)
        #expect(promote.status == 0 && promote.stdout.hasPrefix("production → run \(runID)"))
        let list = try BinaryRunner.run(["runs", "list", "--tracking-dir", tracking, "--format", "json"], in: dir)
        let listed = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [[String: Any]]
        let mine = listed.first { $0["run_id"] as? String == runID }!
        #expect(mine["aliases"] as? [String] == ["production"] && mine["status"] as? String == "FINISHED")
        // Also in MLflow's registry (check_mlflow.py loads models:/ctr-e2e@champion with MLflow).
        let registered = try BinaryRunner.run(
            [
                "runs", "promote", "baseline", "--alias", "champion", "--registered-model", "ctr-e2e",
                "--tracking-dir", tracking,
            ], in: dir)
        #expect(registered.status == 0, "\(registered.stderr)")
        #expect(
            registered.stdout.contains("registered model 'ctr-e2e' version ") && registered.stdout.contains("@champion")
        )
        let version = ModelRegistry(store: store).aliases(name: "ctr-e2e")["champion"]!
        #expect(ModelRegistry(store: store).versions(name: "ctr-e2e").first { $0.version == version }?.runID == runID)
        let reserved = try BinaryRunner.run(
            [
                "runs", "promote", "calibrated", "--alias", "latest", "--registered-model", "x", "--tracking-dir",
                tracking,
            ],
            in: dir)
        #expect(reserved.status != 0 && reserved.stderr.contains("reserved"), "\(reserved.stderr)")
        #expect(try store.aliases(store.experiment(id: run.meta.experimentID))["latest"] == nil)

        // A backtest on a later dataset is logged to the run under its name.
        #expect(try BinaryRunner.run(["build", "--out", "later.parquet"], in: dir).status == 0)
        let evaluate = try BinaryRunner.run(
            ["evaluate", runID, "--dataset", "later.parquet", "--name", "later", "--tracking-dir", tracking], in: dir)
        #expect(evaluate.status == 0, "\(evaluate.stderr)")
        let after = try store.findRun(runID)
        // (Foundation's JSON reader on Linux may be off by an ulp, hence the tolerance.)
        #expect(after.metrics["later_auc"] != nil && abs(after.metrics["valid_auc"]! - metrics["valid_auc"]!) < 1e-12)
        #expect(FileSystem.exists(after.artifactsDirectory + "/evaluations/later.html"))

        // A model trained elsewhere (here: the run's own, through LightGBM's format) logged as a
        // run that promote and serve take, scoring as the original does.
        let trained = after.artifactsDirectory + "/model.json"
        #expect(try BinaryRunner.run(["model", "export-lightgbm", trained, "m.txt"], in: dir).status == 0)
        let imported = try BinaryRunner.run(
            [
                "model", "import-lightgbm", "m.txt", "back.json", "--experiment", "ctr-imported", "--run-name", "lgb",
                "--tracking-dir", tracking,
            ], in: dir)
        #expect(imported.status == 0 && imported.stdout.contains("in experiment 'ctr-imported'"), "\(imported.stderr)")
        let importedRun = try store.findRun("lgb", experiment: "ctr-imported")
        #expect(importedRun.meta.status == .finished && importedRun.params["import_format"] == "lightgbm")
        #expect(FileSystem.exists(importedRun.artifactsDirectory + "/model/MLmodel"))
        #expect(
            try BinaryRunner.run(
                ["runs", "promote", "lgb", "--experiment", "ctr-imported", "--tracking-dir", tracking], in: dir
            )
            .status == 0)
        var rng = SeededRandom(seed: 11)
        let rows = (0..<50).map { _ in (0...40).map { _ in String(rng.uniform() * 20) }.joined(separator: ",") }
        try FileSystem.writeAtomically(rows.joined(separator: "\n") + "\n", to: "\(dir)/rows.csv")
        let scores = try [trained, importedRun.artifactsDirectory + "/model.json"].map { model in
            try BinaryRunner.run(["predict", "--model", model, "--data", "rows.csv", "--header", "no"], in: dir).stdout
        }
        #expect(!scores[0].isEmpty && scores[0] == scores[1])

        // A dataset that is not the one its manifest describes is refused for training.
        let original = try FileSystem.readBytes("\(dir)/later.parquet")
        var tampered = original
        tampered[tampered.count / 2] ^= 1
        try FileSystem.writeAtomically(tampered, to: "\(dir)/later.parquet")
        let refused = try BinaryRunner.run(
            ["train", "--experiment", "ctr-e2e", "--dataset", "later.parquet", "--tracking-dir", tracking], in: dir)
        #expect(refused.status == 1 && refused.stderr.contains("does not match its manifest"), "\(refused.stderr)")
        #expect(!store.runs().contains { $0.meta.status == .failed }, "refused before a run was started")
        try FileSystem.writeAtomically(original, to: "\(dir)/later.parquet")
        // A model changed after training is never promoted.
        let modelPath = after.artifactsDirectory + "/model.json"
        let model = try FileSystem.readBytes(modelPath)
        try FileSystem.writeAtomically(model + Array(" ".utf8), to: modelPath)
        let badPromote = try BinaryRunner.run(
            ["runs", "promote", runID, "--alias", "staging", "--tracking-dir", tracking], in: dir)
        #expect(
            badPromote.status == 1 && badPromote.stderr.contains("does not match the run's"), "\(badPromote.stderr)")
        try FileSystem.writeAtomically(model, to: modelPath)

        let show = try BinaryRunner.run(["runs", "show", String(runID.prefix(8)), "--tracking-dir", tracking], in: dir)
        #expect(show.stdout.contains("aliases     champion, production") && show.stdout.contains("report.html"))
        // The alias's run cannot be deleted out from under the server.
        let delete = try BinaryRunner.run(["runs", "delete", runID, "--tracking-dir", tracking], in: dir)
        #expect(delete.status == 1 && delete.stderr.contains("promote another run first"))
    }

    /// Several processes start runs in one experiment that does not exist yet: one experiment, every run kept.
    @Test func concurrentTrainersShareOneNewExperimentAndLoseNothing() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tracking = dir + "/experiments"
        let children = try (0..<4).map { i in
            try ChildProcess(
                BinaryRunner.binary,
                [
                    "train", "--data", "\(Self.fixtures)/binary.train", "--valid", "\(Self.fixtures)/binary.test",
                    "--experiment", "shared", "--run-name", "worker-\(i)", "--param", "num_iterations=5",
                    "--param", "seed=\(i)", "--tracking-dir", tracking,
                ], stderr: "\(dir)/\(i).err")
        }
        #expect(children.map { $0.wait() } == [0, 0, 0, 0])
        let store = TrackingStore(root: tracking)
        #expect(store.experiments().map(\.name) == ["shared"])
        let runs = store.runs()
        #expect(Set(runs.map(\.name)) == ["worker-0", "worker-1", "worker-2", "worker-3"])
        #expect(runs.allSatisfy { $0.meta.status == .finished && $0.params["num_iterations"] == "5" })
        #expect(Set(runs.map { $0.params["seed"]! }) == ["0", "1", "2", "3"])
        #expect(runs.allSatisfy { FileSystem.exists($0.artifactsDirectory + "/model.json") })
    }

    @Test func aTrainerKilledMidRunShowsAsFailed() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tracking = dir + "/experiments"
        let child = try ChildProcess(
            BinaryRunner.binary,
            [
                "train", "--data", "\(Self.fixtures)/binary.train", "--experiment", "doomed", "--param",
                "num_iterations=1000000", "--param", "learning_rate=0.0001", "--tracking-dir", tracking,
            ])
        let store = TrackingStore(root: tracking)
        let deadline = monotonicNanos() + 60_000_000_000
        while store.runs().isEmpty && monotonicNanos() < deadline { usleep(20_000) }
        #expect(store.runs().first?.meta.status == .running)
        child.signal(SIGKILL)
        child.wait()
        let list = try BinaryRunner.run(["runs", "list", "--tracking-dir", tracking, "--format", "json"])
        let runs = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [[String: Any]]
        #expect(runs.count == 1 && runs[0]["status"] as? String == "FAILED")
    }

    /// `compare runs` on runs with known params and metrics.
    @Test func compareMarksTheBestAndShowsOnlyParamsThatDiffer() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = TrackingStore(root: dir + "/experiments")
        let e = try store.experimentCreatingIfNeeded("fixed")
        var ids: [String] = []
        for (name, lr, auc, loss) in [
            ("slow", "0.05", 0.71, 0.40), ("fast", "0.2", 0.69, 0.43), ("mid", "0.1", 0.73, 0.41),
        ] {
            let r = try RunWriter(store: store, experiment: e, name: name)
            try r.logParams([("learning_rate", lr), ("num_leaves", "31")])
            try r.logMetricHistory("iter_valid_auc", [(1, auc - 0.05), (2, auc)])
            try r.logMetrics([("valid_auc", auc), ("valid_logloss", loss)], step: 0)
            try r.end()
            ids.append(r.id)
        }
        let json = try BinaryRunner.run(
            [
                "compare", "runs", "--experiment", "fixed", "--top", "2", "--metric", "valid_auc", "--format", "json",
                "--tracking-dir", store.root, "--html", dir + "/compare.html",
            ])
        #expect(json.status == 0, "\(json.stderr)")
        let c = try Self.json(json.stdout)
        #expect((c["runs"] as! [[String: Any]]).map { $0["run_name"] as! String } == ["mid", "slow"])
        #expect((c["params"] as! [String: Any]).keys.sorted() == ["learning_rate"])
        #expect((c["metrics"] as! [String: [Double]])["valid_logloss"] == [0.41, 0.40])
        #expect((c["best"] as! [String: [String]])["valid_auc"] == [ids[2]])
        #expect((c["best"] as! [String: [String]])["valid_logloss"] == [ids[0]])
        let html = try FileSystem.readText(dir + "/compare.html")
        #expect(html.contains("Learning curve: valid_auc") && html.contains("class=\"best\""))
        #expect(
            html.contains(
                "The runs differ in learning_rate (0.1, 0.05). On valid_auc, mid leads with 0.7300; slow 0.7100 (−0.0200)."
            ))
        let page = try Browser.render(dir + "/compare.html")
        #expect(page.consoleMessages.isEmpty, "\(page.consoleMessages)")
        #expect(page.seriesNames == ["mid", "slow"])  // the learning curve (no ROC without evaluations)
        #expect(page.texts(class: "legend") == ["mid", "slow"])
        #expect(page.texts(class: "tick-x") == ["1", "2"])  // iterations tick on whole numbers

        let markdown = try BinaryRunner.run(
            ["compare", "runs", "slow", "fast", "--format", "markdown", "--tracking-dir", store.root])
        let lines = markdown.stdout.split(separator: "\n")
        #expect(lines[1] == "|---|---:|---:|")
        #expect(lines.contains("| param `learning_rate` | 0.05 | 0.2 |"))
        #expect(lines.contains("| valid_auc | **0.7100** | 0.6900 |"))
        let table = try BinaryRunner.run(["compare", "runs", "slow", "fast", "--tracking-dir", store.root])
        #expect(table.stdout.contains("0.7100 *") && table.stdout.hasSuffix("* best per metric\n"))
    }
}
