import Foundation
import FsmlCore
import GBDT
import Testing

@testable import Workflows

@Suite struct ModelExplanationTests {
    static func model(_ data: LabeledData) throws -> AnyModel {
        var params = TrainingParams()
        try params.apply(["num_iterations=8", "num_leaves=6", "min_data_in_leaf=10"])
        return .gbdt(try Booster.train(data, valid: nil, params: params).model)
    }

    /// The partial dependence of x0 is, at each grid value, the mean prediction over the sampled
    /// rows (every second one of 600) with x0 set to it: computed here by the model's batch predict.
    @Test func partialDependenceIsTheMeanPredictionOverTheSampledRows() throws {
        let data = TrainingPipelineTests.data(rows: 600, seed: 4)
        let model = try Self.model(data)
        let e = try ModelExplanation(
            model: model, modelPath: "m.json", features: data.features, dataPath: "d", pdp: ["x0"])
        #expect(e.shap.rows == 600 && e.curves.count == 1 && e.curves[0].feature == "x0")
        let curve = e.curves[0]
        let rows = Array(stride(from: 0, to: 600, by: 2))
        for (k, v) in curve.grid.enumerated() {
            var values: [Float] = []
            for r in rows {
                var row = (0..<3).map { data.features[r, $0] }
                row[0] = v
                values += row
            }
            let predictions = model.predict(DenseMatrix(rows: rows.count, columns: 3, values: values), threads: 1)
            let mean = predictions.reduce(0, +) / Double(rows.count)
            #expect(abs(curve.average[k] - mean) < 1e-9, "grid \(k)")
        }
    }

    @Test func whatCannotBeExplainedIsSaid() throws {
        let data = TrainingPipelineTests.data(rows: 200, seed: 5)
        let model = try Self.model(data)
        #expect {
            try ModelExplanation(model: model, modelPath: "m", features: data.features, dataPath: "d", pdp: ["x9"])
        } throws: { "\($0)" == "--pdp: the model has no feature 'x9'" }
        let narrow = DenseMatrix(rows: 1, columns: 2, values: [0, 0])
        #expect {
            try ModelExplanation(model: model, modelPath: "m", features: narrow, dataPath: "d.csv", pdp: [])
        } throws: { "\($0)" == "d.csv has 2 feature columns; the model needs 3" }
    }
}
