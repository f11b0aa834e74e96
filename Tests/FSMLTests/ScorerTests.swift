import FSML
import Foundation
import FsmlCore
import GBDT
import Testing
import Tracking

@Suite struct ScorerTests {
    /// A small model: y = x0 > 0.5, trained for a few rounds.
    static func model() throws -> GBDTModel {
        var random = SeededRandom(seed: 3)
        var values: [Float] = []
        var labels: [Float] = []
        for _ in 0..<500 {
            let x = (0..<2).map { _ in Float(random.uniform()) }
            values += x
            labels.append(x[0] > 0.5 ? 1 : 0)
        }
        var params = TrainingParams()
        try params.apply(["num_iterations=5", "num_leaves=4", "min_data_in_leaf=5"])
        let data = LabeledData(
            features: DenseMatrix(rows: 500, columns: 2, values: values, featureNames: ["a", "b"]), labels: labels)
        return try Booster.train(data, valid: nil, params: params).model
    }

    @Test func aVectorIsScoredByNameAsTheModelPredictsItsRow() throws {
        let model = try Self.model()
        let scorer = Scorer(model: .gbdt(model))
        #expect(scorer.featureNames == ["a", "b"])
        // Given in another order, with a feature the model does not read.
        let vector = FeatureVector(names: ["b", "extra", "a"], values: [0.2, 7, 0.9])
        let row: [Float] = [0.9, 0.2]
        let want = AnyModel.gbdt(model).predict(DenseMatrix(rows: 1, columns: 2, values: row))[0]
        #expect(scorer.score(vector) == want)
        #expect(scorer.score(vector) > 0.5)
        // A feature the vector lacks is missing, as NaN is.
        let partial = FeatureVector(names: ["b"], values: [0.2])
        let missing = AnyModel.gbdt(model).predict(DenseMatrix(rows: 1, columns: 2, values: [.nan, 0.2]))[0]
        #expect(scorer.score(partial) == missing)
    }

    @Test func theAliasOfAnExperimentNamesTheModel() throws {
        let root = NSTemporaryDirectory() + "fsml-scorer-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = TrackingStore(root: root)
        let run = try RunWriter(store: store, experiment: try store.experimentCreatingIfNeeded("ctr"), name: "first")
        let model = try Self.model()
        try ModelArtifact.save(.gbdt(model), to: run)
        try run.end(.finished)
        try store.setAlias("production", run: try store.findRun(run.id))
        let scorer = try Scorer(trackingDirectory: root, experiment: "ctr")
        let vector = FeatureVector(names: ["a", "b"], values: [0.1, 0.1])
        #expect(scorer.score(vector) == Scorer(model: .gbdt(model)).score(vector))
        #expect(throws: (any Error).self) { try Scorer(trackingDirectory: root, experiment: "ctr", alias: "staging") }
    }
}
