import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

/// The real binary on real files: what a user sees, and what a script reads.
@Suite struct CommandLineTests {
    @Test func versionAndUsageErrors() throws {
        let version = try BinaryRunner.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout == "0.1.0\n")
        let unknown = try BinaryRunner.run(["features", "list", "--bogus"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("Unknown option '--bogus'"))
    }

    @Test func initWritesTheReferenceProjectAndRefusesToOverwrite() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try BinaryRunner.run(["init", "proj"], in: dir)
        #expect(first.status == 0)
        let written = try String(contentsOfFile: "\(dir)/proj/fsml.yaml", encoding: .utf8)
        #expect(written.contains("user_views_5m"))
        let second = try BinaryRunner.run(["init", "proj"], in: dir)
        #expect(second.status == 1)
        #expect(second.stderr == "fsml: error: proj/fsml.yaml already exists; not overwriting it\n")
        #expect(try String(contentsOfFile: "\(dir)/proj/fsml.yaml", encoding: .utf8) == written)
    }

    @Test func theRepositoryFsmlYamlIsTheReferenceProject() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try BinaryRunner.run(["init"], in: dir)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        #expect(
            try String(contentsOfFile: "\(dir)/fsml.yaml", encoding: .utf8)
                == String(contentsOfFile: root.appendingPathComponent("fsml.yaml").path, encoding: .utf8))
    }

    @Test func featuresListAsJSONAndTable() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try BinaryRunner.run(["init"], in: dir)
        let json = try BinaryRunner.run(["features", "list", "--format", "json"], in: dir)
        #expect(json.status == 0)
        let items = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [[String: Any]]
        #expect(items.count == 24)
        let cr = items.first { $0["name"] as? String == "user_cr_24h" }!
        #expect(cr["numerator"] as? String == "user_purchases_24h")
        #expect(cr["view"] as? String == "user_activity")
        #expect((cr["definition_hash"] as? String)?.count == 16)
        let table = try BinaryRunner.run(["--config", "fsml.yaml", "features", "list"], in: dir)
        #expect(table.stdout.split(separator: "\n").count == 26)
        #expect(table.stdout.contains("prod_rev_24h          product       sum(price)"))
        let derived = items.first { $0["name"] as? String == "price_vs_avg" }!
        #expect(derived["expression"] as? String == "price / prod_avg_price_24h" && derived["window"] is NSNull)
    }

    @Test func describeStatesTheWindowRuleInWords() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try BinaryRunner.run(["init"], in: dir)
        let out = try BinaryRunner.run(["features", "describe", "user_views_5m"], in: dir)
        #expect(out.status == 0)
        let text = out.stdout.replacingOccurrences(of: "\n  ", with: " ")
        #expect(text.contains("[floor(t / 1m) * 1m - 5m, t)"))
        #expect(text.contains("an event at t or later never counts"))
        let missing = try BinaryRunner.run(["features", "describe", "nope"], in: dir)
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("fsml: error: no feature 'nope' in fsml.yaml"))
    }

    @Test func aBadConfigNamesFileLineAndKeyOnOneLine() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try BinaryRunner.run(["init"], in: dir)
        let path = "\(dir)/fsml.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let broken = text.replacingOccurrences(
            of: "    window: 24h\n    hop: 1h\n  user_views_24h", with: "    window: 24x\n    hop: 1h\n  user_views_24h"
        )
        try broken.write(toFile: path, atomically: true, encoding: .utf8)
        let line = broken.components(separatedBy: "\n").firstIndex { $0.contains("24x") }! + 1
        let out = try BinaryRunner.run(["features", "list"], in: dir)
        #expect(out.status == 1)
        #expect(
            out.stderr
                == "fsml: error: fsml.yaml:\(line): features.user_purchases_24h.window: '24x' is not a duration (use 5m, 1h, 24h, 7d)\n"
        )
        #expect(out.stdout.isEmpty)
        let none = try BinaryRunner.run(["--config", "missing.yaml", "features", "list"], in: dir)
        #expect(none.status == 1)
        #expect(none.stderr.hasPrefix("fsml: error: missing.yaml: no such file"))
    }

    @Test func generateEventsWritesGzipJSONLAndReportsCounts() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = [
            "generate", "events", "--events", "5000", "--users", "100", "--products", "50", "--days", "1", "--out",
            "ev.jsonl.gz", "--format", "json",
        ]
        let out = try BinaryRunner.run(args, in: dir)
        #expect(out.status == 0)
        let summary = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as! [String: Any]
        #expect(summary["events"] as? Int == 5000)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/ev.jsonl.gz"))
        #expect(bytes.prefix(2) == Data([0x1f, 0x8b]))
        #expect(bytes.count == summary["bytes"] as? Int)
        // The same options again: the same bytes.
        _ = try BinaryRunner.run(args.dropLast(4) + ["--out", "again.jsonl.gz"], in: dir)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/again.jsonl.gz")) == bytes)
        let bad = try BinaryRunner.run(["generate", "events", "--events", "0"], in: dir)
        #expect(bad.status == 64)
    }
}

@Suite struct GlobalConfigOptionTests {
    @Test func configWorksBeforeAndAfterTheSubcommand() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try BinaryRunner.run(["init", "elsewhere"], in: dir)
        for args in [
            ["--config", "elsewhere/fsml.yaml", "features", "list"],
            ["features", "list", "--config", "elsewhere/fsml.yaml"],
            ["features", "--config=elsewhere/fsml.yaml", "list"],
        ] {
            let out = try BinaryRunner.run(args, in: dir)
            #expect(out.status == 0, "\(args)")
            #expect(out.stdout.contains("user_views_5m"))
        }
        #expect(try BinaryRunner.run(["features", "list"], in: dir).status == 1)
    }
}

@Suite struct ModelCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("GBDTTests/Fixtures").path

    @Test func trainPredictExportAndImportThroughTheBinary() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let train = try BinaryRunner.run(
            [
                "train", "--data", "\(Self.fixtures)/binary.train", "--valid", "\(Self.fixtures)/binary.test",
                "--param",
                "num_iterations=20", "--param", "eta=0.2", "--out", "model.json", "--importance", "importance.csv",
                "--format", "json",
            ], in: dir)
        #expect(train.status == 0)
        #expect(train.stderr.contains("iteration 20/20"))
        let result = try JSONSerialization.jsonObject(with: Data(train.stdout.utf8)) as! [String: Any]
        let metrics = result["metrics"] as! [String: [String: Double]]
        #expect(metrics["auc"]!["valid"]! > 0.75)
        #expect(result["trees"] as? Int == 20)
        let importance = try String(contentsOfFile: "\(dir)/importance.csv", encoding: .utf8)
        #expect(importance.hasPrefix("feature,split,gain\n"))
        #expect(importance.split(separator: "\n").count == 29)

        let predict = try BinaryRunner.run(
            ["predict", "--model", "model.json", "--data", "\(Self.fixtures)/binary.test", "--out", "p.txt"], in: dir)
        #expect(predict.status == 0)
        #expect(predict.stdout.contains("auc"))
        let predictions = try String(contentsOfFile: "\(dir)/p.txt", encoding: .utf8).split(separator: "\n")
        #expect(predictions.count == 500)

        #expect(try BinaryRunner.run(["model", "export-xgboost", "model.json", "xgb.json"], in: dir).status == 0)
        #expect(try BinaryRunner.run(["model", "import-xgboost", "xgb.json", "back.json"], in: dir).status == 0)
        // An XGBoost file predicts directly too, within Float32 rounding.
        let viaXGB = try BinaryRunner.run(
            ["predict", "--model", "xgb.json", "--data", "\(Self.fixtures)/binary.test"], in: dir)
        let a = predictions.map { Double($0)! }
        let b = viaXGB.stdout.split(separator: "\n").map { Double($0)! }
        #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-6 })
        let info = try BinaryRunner.run(["model", "info", "model.json", "--format", "json"], in: dir)
        #expect(info.stdout.contains("\"trees\": 20"))
    }

    /// A multiclass model from the command line: three classes made from the binary example (the
    /// label, and for positives a split on the first feature); `fsml predict` writes a row's three
    /// probabilities on its line, and reports the multiclass metrics.
    @Test func multiclassTrainsAndPredictsThroughTheBinary() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["binary.train", "binary.test"] {
            let lines = try String(contentsOfFile: "\(Self.fixtures)/\(name)", encoding: .utf8).split(separator: "\n")
            let relabelled = lines.map { line -> String in
                var fields = line.split(separator: "\t").map(String.init)
                if fields[0] == "1" { fields[0] = Double(fields[1])! > 1 ? "2" : "1" }
                return fields.joined(separator: "\t")
            }
            try (relabelled.joined(separator: "\n") + "\n").write(
                toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8)
        }
        let train = try BinaryRunner.run(
            [
                "train", "--data", "binary.train", "--valid", "binary.test", "--param", "objective=multiclass",
                "--param", "num_class=3", "--param", "num_iterations=10", "--out", "mc.json", "--format", "json",
            ], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let result = try JSONSerialization.jsonObject(with: Data(train.stdout.utf8)) as! [String: Any]
        let metrics = result["metrics"] as! [String: [String: Double]]
        #expect(metrics["multi_logloss"]!["valid"]! < log(3.0) && metrics["multi_error"]!["valid"]! < 0.5)
        #expect(result["trees"] as? Int == 30)
        let predict = try BinaryRunner.run(
            ["predict", "--model", "mc.json", "--data", "binary.test", "--out", "p.txt"], in: dir)
        #expect(predict.status == 0 && predict.stdout.contains("multi_logloss"))
        let rows = try String(contentsOfFile: "\(dir)/p.txt", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 500)
        for row in rows {
            let p = row.split(separator: "\t").map { Double($0)! }
            #expect(p.count == 3 && abs(p.reduce(0, +) - 1) < 1e-12)
        }
        let explain = try BinaryRunner.run(["explain", "--model", "mc.json", "--data", "binary.test"], in: dir)
        #expect(explain.status != 0 && explain.stderr.contains("multiclass"))
    }

    /// `fsml explain` on a trained model: each row's contributions and bias add up to its margin
    /// (the logit of what `fsml predict` prints), and the importance comes as JSON.
    @Test func explainWritesContributionsThatAddUpToTheMargin() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let train = try BinaryRunner.run(
            [
                "train", "--data", "\(Self.fixtures)/binary.train", "--param", "num_iterations=10", "--out",
                "model.json",
            ], in: dir)
        #expect(train.status == 0)
        let test = "\(Self.fixtures)/binary.test"
        let explain = try BinaryRunner.run(
            [
                "explain", "--model", "model.json", "--data", test, "--out", "shap.csv", "--top", "3", "--format",
                "json",
                "--report", "report", "--pdp", "f25,f5",
            ], in: dir)
        #expect(explain.status == 0, "\(explain.stderr)")
        let result = try JSONSerialization.jsonObject(with: Data(explain.stdout.utf8)) as! [String: Any]
        #expect(result["rows"] as? Int == 500)
        #expect((result["importance"] as! [[String: Any]]).count == 3)
        let lines = try String(contentsOfFile: "\(dir)/shap.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 501)
        #expect(lines[0].hasPrefix("f0,f1,") && lines[0].hasSuffix(",bias"))
        let predict = try BinaryRunner.run(["predict", "--model", "model.json", "--data", test], in: dir)
        let probabilities = predict.stdout.split(separator: "\n").map { Double($0)! }
        for (line, p) in zip(lines.dropFirst(), probabilities) {
            let sum = line.split(separator: ",").map { Double($0)! }.reduce(0, +)
            #expect(abs(sum - log(p / (1 - p))) < 1e-9)
        }
        let html = try String(contentsOfFile: "\(dir)/report/explain.html", encoding: .utf8)
        #expect(html.contains("Mean |SHAP|") && html.contains("<svg") && html.contains("Mean |SHAP interaction|"))
        // Partial dependence: the mean of the ICE curves, and the traversal in margin units.
        let curves = result["partial_dependence"] as! [[String: Any]]
        #expect(curves.map { $0["feature"] as! String } == ["f25", "f5"])
        let grid = curves[0]["grid"] as! [Double]
        #expect(grid.count > 2 && grid == grid.sorted() && (curves[0]["average"] as! [Double]).count == grid.count)
        #expect((curves[0]["recursion_margin"] as! [Double]).count == grid.count)
        let page = try Browser.render("\(dir)/report/explain.html")
        #expect(page.consoleMessages.isEmpty, "\(page.consoleMessages)")
        #expect(page.seriesNames.filter { $0 == "partial dependence" }.count == 2)
        #expect(page.texts(class: "legend").filter { $0 == "rows (ICE)" }.count == 2)
        // The folder's index lists the explanation by its strongest features.
        let reports = try BinaryRunner.run(["reports", "--dir", "report"], in: dir)
        let top = (result["importance"] as! [[String: Any]]).map { $0["feature"] as! String }
        #expect(
            reports.stdout.contains(
                "explanation model.json: 500 rows; top features by mean |SHAP|: \(top.joined(separator: ", "))"),
            "\(reports.stdout)")
        #expect(try FileSystem.readText("\(dir)/report/index.html").contains("<a href=\"explain.html\">model.json</a>"))
        let unknown = try BinaryRunner.run(
            ["explain", "--model", "model.json", "--data", test, "--pdp", "nothing"], in: dir)
        #expect(unknown.status == 1 && unknown.stderr.contains("no feature 'nothing'"))
        #expect(
            try BinaryRunner.run(["explain", "--model", "model.json", "--data", test, "--out", "s.parquet"], in: dir)
                .status == 0)
        #expect(FileManager.default.fileExists(atPath: "\(dir)/s.parquet"))
    }

    @Test func unknownParametersAndBadFilesAreOneLineErrors() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let unknown = try BinaryRunner.run(
            ["train", "--data", "\(Self.fixtures)/binary.test", "--param", "num_leafs=7", "--out", "m.json"], in: dir)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.hasPrefix("fsml: error: unknown parameter 'num_leafs'"))
        #expect(unknown.stderr.split(separator: "\n").count == 1)
        let missing = try BinaryRunner.run(["predict", "--model", "nope.json", "--data", "x.csv"], in: dir)
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("fsml: error: cannot open nope.json"))
    }

    @Test func theLogisticBaselineTrainsFromTheCommandLine() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try BinaryRunner.run(
            [
                "train", "--data", "\(Self.fixtures)/binary.train", "--model", "logistic", "--out", "lr.json",
                "--format", "json",
            ], in: dir)
        #expect(out.status == 0)
        let metrics =
            (try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as! [String: Any])["metrics"]
            as! [String: [String: Double]]
        // A linear model on the HIGGS-like features: clearly better than chance, clearly below the trees.
        #expect(metrics["auc"]!["train"]! > 0.6 && metrics["auc"]!["train"]! < 0.8)
        // The L2 strength by every name it has (LightGBM's, XGBoost's, scikit-learn's) reaches the fit:
        // a strong penalty shrinks the weights the same whichever name gave it.
        func weights(_ setting: String?) throws -> [Double] {
            let args = ["train", "--data", "\(Self.fixtures)/binary.train", "--model", "logistic", "--out", "w.json"]
            #expect(try BinaryRunner.run(args + (setting.map { ["--param", $0] } ?? []), in: dir).status == 0)
            let model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/w.json")))
            return (model as! [String: Any])["weights"] as! [Double]
        }
        let plain = try weights(nil).map(abs).reduce(0, +)
        let strong = try ["lambda_l2=5000", "reg_lambda=5000", "lambda=5000", "l2_regularization=5000"].map {
            try weights($0).map(abs).reduce(0, +)
        }
        #expect(strong.allSatisfy { $0 < plain / 2 } && Set(strong).count == 1, "\(plain) \(strong)")
    }
}

@Suite struct IngestAndBuildCommandTests {
    @Test func ingestThenBuildParquetCSVAndASpine() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try BinaryRunner.run(["init"], in: dir)
        for (name, seed) in [("a.jsonl.gz", "1"), ("b.jsonl.gz", "2")] {
            let gen = try BinaryRunner.run(
                [
                    "generate", "events", "--events", "4000", "--users", "80", "--products", "30", "--days", "1",
                    "--seed", seed,
                    "--malformed-fraction", "0.01", "--out", name,
                ], in: dir)
            #expect(gen.status == 0)
        }
        let first = try BinaryRunner.run(["ingest", "--source", "file:a.jsonl.gz", "--format", "json"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let counts = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as! [String: Any]
        #expect((counts["dead_letters"] as! Int) > 10)
        #expect(
            (counts["admitted"] as! Int) + (counts["late"] as! Int) + (counts["duplicates"] as! Int)
                + (counts["dead_letters"] as! Int) == counts["lines"] as! Int)
        // Dead letters carry their reason and the raw line.
        let deadDir = "\(dir)/data/offline/dead_letters"
        let deadFile = try FileManager.default.contentsOfDirectory(atPath: deadDir).first!
        let dead = try String(contentsOfFile: "\(deadDir)/\(deadFile)", encoding: .utf8).split(separator: "\n")
        #expect(dead.count == counts["dead_letters"] as! Int)
        let record = try JSONSerialization.jsonObject(with: Data(dead[0].utf8)) as! [String: Any]
        #expect(record["reason"] is String && (record["raw"] != nil || record["raw_base64"] != nil))
        // A second ingest carries on from the store's state.
        #expect(try BinaryRunner.run(["ingest", "--source", "b.jsonl.gz"], in: dir).status == 0)
        let state =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/data/offline/_state.json"))) as! [String: Any]
        #expect((state["next_sequence"] as! Int) > (counts["admitted"] as! Int))

        let build = try BinaryRunner.run(["build", "--out", "ds/train.parquet"], in: dir)
        #expect(build.status == 0, "\(build.stderr)")
        let manifest =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/ds/train.manifest.json"))) as! [String: Any]
        let dataset = manifest["dataset"] as! [String: Any]
        #expect((dataset["rows"] as! Int) > 1000)
        #expect(((manifest["features"] as! [[String: Any]]).first!["definition_hash"] as! String).count == 16)
        #expect(manifest["semantics"] as? String == "as_known")
        #expect(((manifest["offline_store"] as! [String: Any])["files"] as! [Any]).count >= 1)
        let csv = try BinaryRunner.run(["build", "--out", "ds/train.csv"], in: dir)
        #expect(csv.status == 0)
        let lines = try String(contentsOfFile: "\(dir)/ds/train.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == (dataset["rows"] as! Int) + 1)
        #expect(lines[0].hasPrefix("event_id,event_ts,user_id,session_id"))
        // A spine of keys and times.
        try
            "user_id,product_id,event_timestamp,note\nu_10001,sku_10002,2025-01-13T12:00:00Z,x\nnobody,sku_10002,2025-01-13T12:00:00Z,y\n"
            .write(toFile: "\(dir)/spine.csv", atomically: true, encoding: .utf8)
        let spine = try BinaryRunner.run(["build", "--spine", "spine.csv", "--out", "ds/spine.csv"], in: dir)
        #expect(spine.status == 0, "\(spine.stderr)")
        let rows = try String(contentsOfFile: "\(dir)/ds/spine.csv", encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        #expect(
            rows[0]
                == "user_id,product_id,event_timestamp,note,user_views_5m,user_add2cart_1h,user_cr_24h,prod_ctr_24h,prod_rev_24h,sess_duration_s,sess_unique_products,up_views_1h,up_views_24h,up_since_view_s,up_in_cart,prod_avg_price_24h,prod_price_std_24h,price_now,price_vs_avg,device_os,mobile,country"
        )
        // The unknown user has no user features; without a session_id column, no session features;
        // without a price column, no price shown; a pair never seen is not in the cart.
        let header = rows[0].split(separator: ",").map(String.init)
        let nobody = rows[2].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(rows[2].hasPrefix("nobody,sku_10002,2025-01-13T12:00:00Z,y,,,,"))
        for name in ["sess_duration_s", "sess_unique_products", "up_views_1h", "price_now", "price_vs_avg"] {
            #expect(nobody[header.firstIndex(of: name)!].isEmpty, "\(name)")
        }
        #expect(nobody[header.firstIndex(of: "up_in_cart")!] == "0.0")
    }

    /// The edges of the input: a byte order mark, a line far over the limit (a dead letter with its
    /// length, read in linear time), timestamps outside RFC 3339. Each rejected line says why; the
    /// others are admitted.
    @Test func aBOMAnEndlessLineAndNonRFC3339TimesAtTheEdges() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try BinaryRunner.run(["init"], in: dir)
        func event(_ id: String, _ time: String) -> String {
            #"{"event_id":"\#(id)","event_ts":"\#(time)","user_id":"u","session_id":"s","event_type":"page_view","product_id":"p","price":1}"#
        }
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]
        bytes += Array((event("e1", "2025-01-13T00:00:00Z") + "\n").utf8)
        bytes += Array("{\"event_id\":\"".utf8) + [UInt8](repeating: 0x61, count: 3 << 20) + Array("\"}\n".utf8)
        for (i, t) in ["2025-01-13", "2025-01-13 00:30:00Z", "0000-01-13T00:30:00Z", "2025-01-13T00:30:00.000"]
            .enumerated()
        {
            bytes += Array((event("bad\(i)", t) + "\n").utf8)
        }
        bytes += Array((event("e2", "2025-01-13T02:00:00+02:00") + "\n").utf8)
        try FileSystem.writeAtomically(bytes, to: "\(dir)/edges.jsonl")
        let ingest = try BinaryRunner.run(["ingest", "--source", "edges.jsonl", "--format", "json"], in: dir)
        #expect(ingest.status == 0, "\(ingest.stderr)")
        let counts = try JSONSerialization.jsonObject(with: Data(ingest.stdout.utf8)) as! [String: Any]
        #expect(counts["lines"] as? Int == 7 && counts["admitted"] as? Int == 2 && counts["dead_letters"] as? Int == 5)
        let deadDir = "\(dir)/data/offline/dead_letters"
        let records = try FileManager.default.contentsOfDirectory(atPath: deadDir).map {
            try String(contentsOfFile: "\(deadDir)/\($0)", encoding: .utf8)
        }.joined().split(separator: "\n")
        #expect(records.count == 5)
        #expect(records[0].contains("the line is 3,145,743 bytes, over the limit of 1,048,576"))
        #expect(records[0].utf8.count < 4_000)
        for record in records.dropFirst() { #expect(record.contains("event_ts"), "\(record)") }
        // The stream job decides the same from standard input.
        let stream = try BinaryRunner.run(
            [
                "stream", "--source", "file:\(dir)/edges.jsonl", "--until-end", "--no-online", "--offline",
                "\(dir)/streamed", "--format", "json",
            ], in: dir)
        #expect(stream.status == 0, "\(stream.stderr)")
        let totals = try JSONSerialization.jsonObject(with: Data(stream.stdout.utf8)) as! [String: Any]
        #expect((totals["totals"] as? [String: Int])?["dead_letters"] == 5)
    }

    @Test func buildingAnEmptyStoreIsAClearError() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try BinaryRunner.run(["init"], in: dir)
        let out = try BinaryRunner.run(["build", "--out", "x.parquet"], in: dir)
        #expect(out.status == 1)
        #expect(out.stderr == "fsml: error: data/offline holds no events; run `fsml ingest` or `fsml stream` first\n")
        // Validating a store that is not there fails; it does not pass for holding no bad events.
        for args in [["validate", "--offline-store"], ["validate", "--offline-store", "--offline", "elsewhere"]] {
            let validate = try BinaryRunner.run(args, in: dir)
            #expect(validate.status == 1 && validate.stderr.contains("is not an offline store"), "\(validate.stderr)")
        }
    }

    /// Writing to a peer that has gone (a closed pipe here; a dead Redis in the stream job) is an
    /// error the process handles, never SIGPIPE killing it with nothing printed.
    @Test func aClosedPipeIsAnErrorNotASignal() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        close(fds[0])
        defer { close(fds[1]) }
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try BinaryRunner.run(["init"], in: dir)
        let child = try ChildProcess(
            BinaryRunner.binary, ["features", "list", "--config", "\(dir)/fsml.yaml"], stdoutDescriptor: fds[1])
        #expect(child.wait() != 128 + SIGPIPE)
    }
}
