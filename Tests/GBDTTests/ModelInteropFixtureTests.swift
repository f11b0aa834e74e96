import Foundation
import FsmlCore
import Testing

@testable import GBDT

/// Models of each objective fsml and LightGBM share, exported to LightGBM's text format and to
/// ONNX, with the rows they were scored on and fsml's predictions. `make test` sets
/// FSML_INTEROP_DIR and then loads each export in LightGBM and onnxruntime
/// (tests/interop/check_models.py), which must predict the same; that script also trains LightGBM
/// models and has fsml import them.
@Suite struct ModelInteropFixtureTests {
    static func data(_ name: String) throws -> LabeledData {
        let data = try DataLoader.load(path: Fixture.path(name), format: .tsv)
        // Missing values in one column, to cross the default directions.
        var values = data.features.values
        for r in stride(from: 0, to: data.rows, by: 7) { values[r * data.features.columns + 3] = .nan }
        return LabeledData(
            features: DenseMatrix(rows: data.rows, columns: data.features.columns, values: values), labels: data.labels)
    }

    /// Three classes from the binary set: the label, and for positives a split on the first feature.
    static func threeClasses(_ data: LabeledData) -> LabeledData {
        var out = data
        for r in 0..<data.rows where data.labels[r] == 1 {
            out.labels[r] = data.features.values[r * data.features.columns] > 1 ? 2 : 1
        }
        return out
    }

    @Test func writeModelsForTheInteropCheck() throws {
        let dir =
            ProcessInfo.processInfo.environment["FSML_INTEROP_DIR"]
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("fsml-interop-\(UUID().uuidString)").path
        try FileSystem.createDirectory("\(dir)/models")
        let train = try Self.data("binary.train")
        let test = try Self.data("binary.test")
        var rows = ""
        for r in 0..<test.rows {
            let row = (0..<test.features.columns).map { c -> String in
                let x = test.features.values[r * test.features.columns + c]
                return x.isNaN ? "" : "\(x)"
            }
            rows += row.joined(separator: ",") + "\n"
        }
        try FileSystem.writeAtomically(rows, to: "\(dir)/models/rows.csv")
        // "categorical": binary, with the first feature split by category (its values' integer
        // parts; negative values are none).
        for objective in ["binary", "regression", "regression_l1", "huber", "poisson", "multiclass", "categorical"] {
            let settings =
                objective == "categorical"
                ? ["categorical_feature=name:f0", "max_cat_to_onehot=2", "min_data_per_group=20"]
                : ["objective=\(objective)"]
            let model = try Booster.train(
                objective == "multiclass" ? Self.threeClasses(train) : train,
                params: Fixture.params(settings + ["num_iterations=20", "num_threads=1"])
            ).model
            try model.saveLightGBM(to: "\(dir)/models/\(objective).lightgbm.txt")
            // ONNX's tree ensemble of ai.onnx.ml 1 has no category sets.
            if objective != "categorical" { try model.saveONNX(to: "\(dir)/models/\(objective).onnx") }
            #expect(objective != "categorical" || model.trees.contains { $0.hasCategoricalSplits })
            let predictions = FlatPredictor(model).predict(test.features)
            // One line a row; a multiclass row's probabilities tab-separated.
            let lines = stride(from: 0, to: predictions.count, by: model.numClass).map {
                predictions[$0..<$0 + model.numClass].map { "\($0)" }.joined(separator: "\t")
            }
            try FileSystem.writeAtomically(
                lines.joined(separator: "\n") + "\n", to: "\(dir)/models/\(objective).fsml.pred")
            // And back: the export read by fsml predicts what the model does.
            let back = try GBDTModel.loadLightGBM(path: "\(dir)/models/\(objective).lightgbm.txt")
            #expect(FlatPredictor(back).predict(test.features) == predictions, "\(objective)")
        }
    }

    /// A LightGBM threshold is a Double compared with a widened Float32 input: fsml keeps the
    /// largest Float32 at or below it.
    @Test func importedThresholdsRoundDown() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-lgb-\(UUID())").path
        try FileSystem.createDirectory(dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = 0.1  // Float(0.1) is above 0.1: an input of Float(0.1) goes right in LightGBM.
        let text = """
            tree
            version=v4
            num_class=1
            num_tree_per_iteration=1
            label_index=0
            max_feature_idx=0
            objective=regression
            feature_names=x

            Tree=0
            num_leaves=2
            num_cat=0
            split_feature=0
            split_gain=1
            threshold=\(t)
            decision_type=2
            left_child=-1
            right_child=-2
            leaf_value=-1 1
            leaf_weight=1 1
            leaf_count=1 1
            internal_value=0
            internal_weight=2
            internal_count=2
            is_linear=0
            shrinkage=1


            end of trees

            """
        try FileSystem.writeAtomically(text, to: "\(dir)/m.txt")
        let model = try GBDTModel.loadLightGBM(path: "\(dir)/m.txt")
        #expect(model.predict([Float(0.1)]) == 1 && model.predict([Float(0.1).nextDown]) == -1)
        // No missing type: LightGBM reads NaN as 0, which goes left of 0.1.
        #expect(model.predict([.nan]) == -1)
        #expect(try AnyModel.load(path: "\(dir)/m.txt").objective == .regression)
        try FileSystem.writeAtomically(
            text.replacingOccurrences(of: "num_class=1", with: "num_class=3"), to: "\(dir)/m.txt")
        #expect { try GBDTModel.loadLightGBM(path: "\(dir)/m.txt") } throws: { "\($0)".contains("num_class=3") }
        // Malformed numbers and categorical sets are errors that name the tree, never a crash.
        for (from, to, message) in [
            ("leaf_count=1 1", "leaf_count=nan 1", "leaf_count has nan"),
            ("left_child=-1", "left_child=1e12", "left_child has"),
            ("decision_type=2", "decision_type=2 2", "2 decision types for 1 thresholds"),
            ("decision_type=2", "decision_type=9\ncat_boundaries=0 1\ncat_threshold=5", "names category set"),
            ("decision_type=2", "decision_type=9\ncat_boundaries=0 3\ncat_threshold=5", "do not cut"),
        ] {
            try FileSystem.writeAtomically(text.replacingOccurrences(of: from, with: to), to: "\(dir)/m.txt")
            #expect { try GBDTModel.loadLightGBM(path: "\(dir)/m.txt") } throws: {
                "\($0)".contains("Tree=0") && "\($0)".contains(message)
            }
        }
    }
}

/// XGBoost's default binary format, a model XGBoost 3.2 saved (Fixtures/xgboost/binary10.ubj, 10
/// trees with missing values in a column) with XGBoost's own predictions of 50 rows.
@Suite struct UBJSONModelTests {
    @Test func anXGBoostUBJSONModelPredictsAsXGBoostDoes() throws {
        let dir = Fixture.path("xgboost")
        let model = try AnyModel.load(path: "\(dir)/binary10.ubj")
        guard case .gbdt(let m) = model else {
            Issue.record("not a tree model")
            return
        }
        #expect(m.trainedBy == "xgboost" && m.trees.count == 10)
        let rows = try DataLoader.load(path: "\(dir)/rows50.csv", format: .csv, labelColumn: "none", header: .no)
        let expected = try FileSystem.readText("\(dir)/binary10.pred").split(separator: "\n").map { Double($0)! }
        let got = FlatPredictor(m).predict(rows.features)
        // XGBoost sums in Float32.
        #expect(zip(got, expected).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func ubjsonByHand() throws {
        // {"a": [1, 7], "b": "x", "c": true}, "a" a typed, counted array of int8.
        let bytes: [UInt8] =
            [0x7B, 0x69, 1] + Array("a".utf8) + [0x5B, 0x24, 0x69, 0x23, 0x69, 2, 1, 7] + [0x69, 1] + Array("b".utf8)
            + [0x53, 0x69, 1] + Array("x".utf8) + [0x69, 1] + Array("c".utf8) + [0x54, 0x7D]
        let node = try UBJSONReader.parse(bytes)
        #expect(node["a"]?.array?.compactMap(\.int) == [1, 7] && node["b"]?.string == "x" && node["c"] == .bool(true))
        #expect(UBJSONReader.looksLikeObject(bytes) && !UBJSONReader.looksLikeObject(Array("{\"a\":1}".utf8)))
        #expect(throws: UBJSONReader.Failure.self) { try UBJSONReader.parse(Array(bytes.dropLast(3))) }
    }
}
