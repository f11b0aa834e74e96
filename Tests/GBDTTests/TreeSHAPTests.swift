import Foundation
import FsmlCore
import Testing

@testable import GBDT

@Suite struct TreeSHAPTests {
    /// A random tree over `features` features: random splits (features repeat along paths),
    /// missing values sent either way, covers that are sometimes zero.
    static func randomTree(_ rng: inout SeededRandom, features: Int, maxDepth: Int) -> Tree {
        var t = Tree()
        var leafValues: [Double] = []
        var leafHessians: [Double] = []
        // Returns the child reference and its cover.
        func grow(_ depth: Int) -> (Int32, Double) {
            if depth == maxDepth || (depth > 0 && rng.bernoulli(0.3)) {
                let cover = rng.bernoulli(0.1) ? 0 : 0.5 + rng.uniform() * 10
                leafValues.append(rng.normal())
                leafHessians.append(cover)
                return (~Int32(leafValues.count - 1), cover)
            }
            let n = t.splitFeature.count
            t.splitFeature.append(Int32(rng.below(features)))
            t.threshold.append(Float(rng.uniform() * 2 - 1))
            t.defaultLeft.append(rng.bernoulli(0.5))
            t.leftChild.append(0)
            t.rightChild.append(0)
            t.splitGain.append(0)
            t.internalValue.append(0)
            t.internalHessian.append(0)
            t.internalCount.append(0)
            let (l, cl) = grow(depth + 1)
            let (r, cr) = grow(depth + 1)
            t.leftChild[n] = l
            t.rightChild[n] = r
            t.internalHessian[n] = cl + cr
            return (Int32(n), cl + cr)
        }
        _ = grow(0)
        t.leafValue = leafValues
        t.leafHessian = leafHessians
        t.leafCount = [Int](repeating: 0, count: leafValues.count)
        precondition(t.validate() == nil)
        return t
    }

    /// Rows with missing values and values exactly at the model's thresholds.
    static func randomRow(_ rng: inout SeededRandom, _ model: GBDTModel) -> [Float] {
        (0..<model.featureCount).map { f in
            if rng.bernoulli(0.15) { return .nan }
            if rng.bernoulli(0.2) {
                let t = model.trees[rng.below(model.trees.count)]
                if let n = t.splitFeature.indices.filter({ t.splitFeature[$0] == Int32(f) }).first {
                    return t.threshold[n]
                }
            }
            return Float(rng.uniform() * 2.4 - 1.2)
        }
    }

    @Test(arguments: 0..<40)
    func contributionsAreTheShapleyValuesOfTheBruteForceOracle(seed: Int) {
        var rng = SeededRandom(seed: UInt64(seed))
        let features = 1 + rng.below(8)
        let trees = (0..<(1 + rng.below(4))).map { _ in
            Self.randomTree(&rng, features: features, maxDepth: 1 + rng.below(6))
        }
        let model = GBDTModel(
            objective: .regression, initScore: rng.normal(), trees: trees,
            featureNames: (0..<features).map { "f\($0)" })
        let explainer = TreeExplainer(model)
        for _ in 0..<6 {
            let row = Self.randomRow(&rng, model)
            let phi = explainer.contributions(row)
            let expected = ShapleyOracle.shapley(model, row)
            #expect(phi.count == features + 1)
            for (a, b) in zip(phi, expected) {
                #expect(abs(a - b) <= 1e-9, "seed \(seed) row \(row): \(phi) vs \(expected)")
            }
            let margin = row.withUnsafeBufferPointer { model.margin($0.baseAddress!) }
            #expect(abs(phi.reduce(0, +) - margin) <= 1e-9)
        }
    }

    static func close(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-12 }
    }

    @Test(arguments: 0..<20)
    func interactionsAreTheShapleyInteractionValuesOfTheOracle(seed: Int) {
        var rng = SeededRandom(seed: UInt64(100 + seed))
        let features = 2 + rng.below(5)
        let trees = (0..<(1 + rng.below(3))).map { _ in
            Self.randomTree(&rng, features: features, maxDepth: 1 + rng.below(5))
        }
        let model = GBDTModel(
            objective: .regression, initScore: rng.normal(), trees: trees,
            featureNames: (0..<features).map { "f\($0)" })
        let explainer = TreeExplainer(model)
        for _ in 0..<4 {
            let row = Self.randomRow(&rng, model)
            let got = explainer.interactions(row)
            let expected = ShapleyOracle.interactions(model, row)
            #expect(got.count == expected.count)
            for (a, b) in zip(got, expected) { #expect(abs(a - b) <= 1e-9, "seed \(seed) row \(row)") }
            let margin = row.withUnsafeBufferPointer { model.margin($0.baseAddress!) }
            #expect(abs(got.reduce(0, +) - margin) <= 1e-9)
        }
    }

    /// Two features, worked by hand. Root: x0 <= 0 (covers 2 | 2); left: x1 <= 0 (covers 1 | 1)
    /// with leaves 4 and 0; right leaf −2. v(∅) = ½(½·4 + ½·0) + ½(−2) = 0.
    /// Row (0, 0) reaches 4: v({0}) = 2, v({1}) = ½·4 + ½(−2) = 1, v({0,1}) = 4, so
    /// φ0 = ½(2 − 0) + ½(4 − 1) = 2.5 and φ1 = ½(1 − 0) + ½(4 − 2) = 1.5.
    /// Row (NaN, 0) goes right (missing right at the root) and reaches −2: v({0}) = −2,
    /// v({1}) = 1, v({0,1}) = −2, so φ0 = ½(−2) + ½(−3) = −2.5 and φ1 = ½(1) + ½(0) = 0.5.
    @Test func aHandComputedTree() {
        var t = Tree()
        t.splitFeature = [0, 1]
        t.threshold = [0, 0]
        t.defaultLeft = [false, true]
        t.leftChild = [1, ~0]
        t.rightChild = [~2, ~1]
        t.splitGain = [0, 0]
        t.internalValue = [0, 0]
        t.internalHessian = [4, 2]
        t.internalCount = [4, 2]
        t.leafValue = [4, 0, -2]
        t.leafHessian = [1, 1, 2]
        t.leafCount = [1, 1, 2]
        #expect(t.validate() == nil)
        let model = GBDTModel(objective: .regression, initScore: 0.25, trees: [t], featureNames: ["a", "b"])
        let explainer = TreeExplainer(model)
        #expect(explainer.expectedValue == 0.25)
        #expect(Self.close(explainer.contributions([0, 0]), [2.5, 1.5, 0.25]))
        #expect(Self.close(explainer.contributions([.nan, 0]), [-2.5, 0.5, 0.25]))
        // Interactions: Φ01 = ½(v({0,1}) − v({0}) − v({1}) + v(∅)) = ½(4 − 2 − 1 + 0) = 0.5 for (0, 0),
        // ½(−2 + 2 − 1 + 0) = −0.5 for (NaN, 0); the diagonals are the rest of each φ.
        #expect(Self.close(explainer.interactions([0, 0]), [2, 0.5, 0, 0.5, 1, 0, 0, 0, 0.25]))
        #expect(Self.close(explainer.interactions([.nan, 0]), [-2, -0.5, 0, -0.5, 1, 0, 0, 0, 0.25]))
        let pairs = explainer.interactionImportance(
            DenseMatrix(rows: 2, columns: 2, values: [0, 0, .nan, 0]), rows: [0, 1], threads: 2)
        #expect(pairs.count == 1 && pairs[0].first == 0 && pairs[0].second == 1)
        #expect(abs(pairs[0].meanAbsolute - 1) <= 1e-12)
        // A stump: all of the difference goes to its feature. E = (3·2 + 1·(−2)) / 4 = 1.
        var stump = Tree()
        stump.splitFeature = [1]
        stump.threshold = [0.5]
        stump.defaultLeft = [true]
        stump.leftChild = [~0]
        stump.rightChild = [~1]
        stump.splitGain = [0]
        stump.internalValue = [0]
        stump.internalHessian = [0]
        stump.internalCount = [4]
        stump.leafValue = [2, -2]
        stump.leafHessian = [0, 0]
        stump.leafCount = [3, 1]  // no hessians: the counts are the covers
        let s = GBDTModel(objective: .regression, initScore: 0, trees: [stump], featureNames: ["a", "b"])
        #expect(Self.close(TreeExplainer(s).contributions([7, .nan]), [0, 1, 1]))
        #expect(Self.close(TreeExplainer(s).contributions([7, 3]), [0, -3, 1]))
    }

    /// On a trained model (missing values, 30 trees of up to 15 leaves), every row's contributions
    /// and bias add up to its margin, and the batch on two threads gives each row's values exactly.
    @Test func contributionsOfATrainedModelSumToItsMargin() throws {
        let data = Fixture.synthetic(rows: 3000, features: 6, seed: 5, missing: 0.1)
        let model = try Booster.train(data, params: Fixture.params(["num_iterations=30", "num_leaves=15"])).model
        let explainer = TreeExplainer(model)
        let shap = explainer.contributions(data.features, threads: 2)
        let flat = FlatPredictor(model).predict(data.features, margins: true)
        var worst = 0.0
        for r in 0..<data.rows {
            worst = max(worst, abs(shap.row(r).reduce(0, +) - flat[r]))
        }
        #expect(worst <= 1e-9, "largest |Σφ + bias − margin| \(worst)")
        #expect(shap == explainer.contributions(data.features, threads: 1))
        let one = Array(data.features.row(17))
        #expect(Array(shap.row(17)) == explainer.contributions(one))
        // The drivers of the label (features 0-2) lead the global importance.
        #expect(Set(shap.importance().prefix(3).map(\.feature)) == [0, 1, 2])
        // The oracle agrees on a few rows of the real model too (6 features: 64 subsets).
        for r in [0, 1, 2] {
            let row = Array(data.features.row(r))
            for (a, b) in zip(shap.row(r), ShapleyOracle.shapley(model, row)) { #expect(abs(a - b) <= 1e-9) }
        }
    }

    /// An imported XGBoost model is explained like any other: its covers are its `sum_hessian`.
    @Test func anImportedXGBoostModelIsExplained() throws {
        let data = Fixture.synthetic(rows: 2000, features: 5, seed: 9)
        let model = try Booster.train(data, params: Fixture.params(["num_iterations=10", "num_leaves=8"])).model
        let path = Fixture.temporaryPath("xgb.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.saveXGBoost(to: path)
        let imported = try GBDTModel.loadXGBoost(path: path)
        let explainer = TreeExplainer(imported)
        for r in 0..<20 {
            let row = Array(data.features.row(r))
            let phi = explainer.contributions(row)
            let margin = row.withUnsafeBufferPointer { imported.margin($0.baseAddress!) }
            #expect(abs(phi.reduce(0, +) - margin) <= 1e-9)
            for (a, b) in zip(phi, ShapleyOracle.shapley(imported, row)) { #expect(abs(a - b) <= 1e-9) }
        }
    }

    /// Against XGBoost itself: a model XGBoost trained (with missing values) and its `pred_contribs`
    /// for 60 rows, written by Fixtures/make_xgboost_shap.py. XGBoost computes in Float32.
    @Test func equalsXGBoostsPredContribsOnAModelXGBoostTrained() throws {
        let model = try GBDTModel.loadXGBoost(path: Fixture.path("xgboost-shap-model.json"))
        func numbers(_ name: String) throws -> [[Double]] {
            try String(contentsOfFile: Fixture.path(name), encoding: .utf8).split(separator: "\n").map {
                $0.split(separator: ",").map { Double($0)! }
            }
        }
        let rows = try numbers("xgboost-shap-rows.csv")
        let expected = try numbers("xgboost-shap-contribs.csv")
        #expect(rows.count == 60 && expected.count == 60 && rows.contains { $0.contains { $0.isNaN } })
        let explainer = TreeExplainer(model)
        var worst = 0.0
        for (row, want) in zip(rows, expected) {
            let phi = explainer.contributions(row.map { Float($0) })
            #expect(phi.count == want.count)
            for (a, b) in zip(phi, want) { worst = max(worst, abs(a - b)) }
        }
        #expect(worst <= 1e-5, "largest difference from XGBoost's pred_contribs \(worst)")
    }

    @Test func topAndMeanAbsolute() {
        let v = SHAPValues(rows: 2, featureNames: ["a", "b", "c"], values: [1, -3, 0, 9, -1, 1, 2, 9])
        #expect(v.meanAbsolute() == [1, 2, 1])
        #expect(v.importance().map(\.feature) == [1, 0, 2])
        #expect(v.top(0, 5).map(\.feature) == [1, 0])
        #expect(v.top(1, 1).map(\.value) == [2])
    }

    @Test func theLogisticBaselineIsExplainedByItsWeights() {
        let m = LogisticModel(
            featureNames: ["a", "b"], means: [1, 2], scales: [2, 4], weights: [0.5, -1], intercept: 0.3, lambda: 1)
        let phi = ModelExplainer.linear(m).contributions([3, .nan])
        #expect(phi == [0.5, 0, 0.3])
        let margin = [Float(3), .nan].withUnsafeBufferPointer { m.margin($0.baseAddress!) }
        #expect(abs(phi.reduce(0, +) - margin) <= 1e-12)
    }
}
