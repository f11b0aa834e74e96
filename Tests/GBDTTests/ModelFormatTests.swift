import Foundation
import FsmlCore
import Testing

@testable import GBDT

@Suite struct ModelFormatTests {
    @Test func anXGBoostJSONRoundTripPredictsTheSame() throws {
        let data = Fixture.synthetic(rows: 6000, seed: 21)
        let model = try Booster.train(data, params: Fixture.params(["num_iterations=40", "num_leaves=12"])).model
        let path = Fixture.temporaryPath("xgb.json")
        try model.saveXGBoost(to: path)
        let imported = try GBDTModel.loadXGBoost(path: path)
        #expect(imported.trees.count == model.trees.count)
        #expect(imported.trainedBy == "xgboost")
        let a = FlatPredictor(model).predict(data.features)
        let b = FlatPredictor(imported).predict(data.features)
        // XGBoost stores leaves and base_score in Float32.
        #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-6 })
        // Rows exactly at a threshold go the same way under `<=` and the exported `<`.
        let t = model.trees[0]
        var row = [Float](repeating: 0, count: data.features.columns)
        row[Int(t.splitFeature[0])] = t.threshold[0]
        row.withUnsafeBufferPointer { r in
            #expect(Float(t.predict(r.baseAddress!)) == Float(imported.trees[0].predict(r.baseAddress!)))
        }
    }

    /// A feature whose being missing is what matters: the best split sends every value left and
    /// missing ones right, at the last bin. The model file (and the XGBoost export) must hold it
    /// and load back to the same predictions.
    @Test func aModelSplittingMissingFromEveryValueLoadsBack() throws {
        var rng = SeededRandom(seed: 9)
        var values: [Float] = []
        var labels: [Float] = []
        for _ in 0..<4000 {
            let missing = rng.uniform() < 0.4
            values += [missing ? .nan : Float(rng.normal()), Float(rng.normal())]
            labels.append(rng.uniform() < (missing ? 0.9 : 0.1) ? 1 : 0)
        }
        let data = LabeledData(features: DenseMatrix(rows: 4000, columns: 2, values: values), labels: labels)
        let model = try Booster.train(data, params: Fixture.params(["num_iterations=5", "num_leaves=4"])).model
        #expect(model.trees[0].splitFeature[0] == 0 && model.trees[0].threshold[0] == .greatestFiniteMagnitude)
        let path = Fixture.temporaryPath("missing.json")
        try model.save(to: path)
        let loaded = try GBDTModel.load(path: path)
        #expect(FlatPredictor(loaded).predict(data.features) == FlatPredictor(model).predict(data.features))
        try model.saveXGBoost(to: path + ".xgb")
        let imported = try GBDTModel.loadXGBoost(path: path + ".xgb")
        let a = FlatPredictor(model).predict(data.features)
        #expect(zip(a, FlatPredictor(imported).predict(data.features)).allSatisfy { abs($0 - $1) <= 1e-6 })
        // Files written before this fix held the infinite threshold as null: they load too.
        let old = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(
            of: "3.4028234663852886e+38", with: "null")
        #expect(old.contains("null"))
        let fromOld = try GBDTModel.load(bytes: Array(old.utf8), file: "old.json")
        #expect(FlatPredictor(fromOld).predict(data.features) == a)
    }

    @Test func theExportHasXGBoostsRequiredFields() throws {
        let data = Fixture.synthetic(rows: 1000, seed: 22)
        let model = try Booster.train(data, params: Fixture.params(["num_iterations=2", "num_leaves=4"])).model
        let json =
            try JSONSerialization.jsonObject(with: Data(JSONText.render(model.xgboostJSON()).utf8)) as! [String: Any]
        let learner = json["learner"] as! [String: Any]
        #expect(learner["attributes"] != nil)
        let params = learner["learner_model_param"] as! [String: Any]
        #expect(params["num_feature"] as? String == "6")
        let gb = (learner["gradient_booster"] as! [String: Any])["model"] as! [String: Any]
        let tree = (gb["trees"] as! [[String: Any]])[0]
        for key in [
            "left_children", "right_children", "parents", "split_indices", "split_conditions", "default_left",
            "base_weights", "loss_changes", "sum_hessian", "categories", "categories_nodes", "categories_segments",
            "categories_sizes",
        ] {
            #expect(tree[key] is [Any], "\(key)")
        }
        let left = tree["left_children"] as! [Int]
        let treeParam = tree["tree_param"] as! [String: Any]
        #expect(treeParam["num_nodes"] as? String == "\(left.count)")
        #expect((tree["parents"] as! [Int])[0] == 2_147_483_647)
        #expect(left.filter { $0 == -1 }.count == model.trees[0].leaves)
    }

    @Test func exportedRightChildrenFollowTheirLeftSiblings() throws {
        // XGBoost's predictor steps to `left + !(x < condition)`, so the right child must be left + 1.
        let data = Fixture.synthetic(rows: 4000, seed: 23)
        let model = try Booster.train(
            data, params: Fixture.params(["num_iterations=5", "num_leaves=31", "min_data_in_leaf=5"])
        ).model
        let json = try JSONParser.parse(JSONText.render(model.xgboostJSON()))
        for tree in json["learner"]!["gradient_booster"]!["model"]!["trees"]!.array! {
            let left = tree["left_children"]!.array!.map { $0.int! }
            let right = tree["right_children"]!.array!.map { $0.int! }
            let parents = tree["parents"]!.array!.map { $0.int! }
            for n in left.indices where left[n] >= 0 {
                #expect(right[n] == left[n] + 1)
                #expect(parents[left[n]] == n && parents[right[n]] == n)
            }
        }
    }

    @Test func corruptModelsAreClearErrors() throws {
        let path = Fixture.temporaryPath("bad.json")
        try FileSystem.writeAtomically("{\"format\": \"fsml-gbdt\", \"format_version\": 9}", to: path)
        #expect(throws: ModelFileError.self) { try GBDTModel.load(path: path) }
        try FileSystem.writeAtomically("not json", to: path)
        #expect(throws: ModelFileError.self) { try AnyModel.load(path: path) }
        let data = Fixture.synthetic(rows: 500, seed: 1)
        let model = try Booster.train(data, params: Fixture.params(["num_iterations=2", "num_leaves=4"])).model
        var text = JSONText.render(model.jsonValue(), indent: nil)
        text = text.replacingOccurrences(of: "\"left_child\":[", with: "\"left_child\":[7,")
        try FileSystem.writeAtomically(text, to: path)
        do {
            _ = try GBDTModel.load(path: path)
            Issue.record("a corrupt tree loaded")
        } catch let error as ModelFileError {
            #expect(error.description.contains("trees[0]"))
        }
        // Integers beyond what they index, and a key given twice: errors, never a trap.
        let good = JSONText.render(model.jsonValue(), indent: nil)
        for bad in [
            good.replacingOccurrences(of: "\"split_feature\":[", with: "\"split_feature\":[99999999999,"),
            good.replacingOccurrences(of: "\"split_feature\":[", with: "\"split_feature\":[-3,"),
            good.replacingOccurrences(of: "{\"leaves\"", with: "{\"leaves\":1,\"leaves\""),
        ] {
            #expect(bad != good)
            #expect(throws: ModelFileError.self) { try GBDTModel.load(bytes: Array(bad.utf8), file: "bad.json") }
        }
    }
}
