import Foundation
import FsmlCore
import Testing

@testable import GBDT

@Suite struct LogisticRegressionTests {
    @Test func aSaturatedModelReproducesTheGroupRates() throws {
        // One binary feature: with (almost) no penalty the fitted probabilities are the observed
        // rates in each group, 2/8 and 6/8.
        let x: [Float] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]
        let y: [Float] = [1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0]
        let data = LabeledData(features: DenseMatrix(rows: 16, columns: 1, values: x), labels: y)
        let model = try LogisticRegression.train(data, lambda: 1e-9).model
        #expect(abs(model.predict([Float(0)]) - 0.25) < 1e-7)
        #expect(abs(model.predict([Float(1)]) - 0.75) < 1e-7)
        // A missing value is imputed with the mean (0.5): the midpoint of the two log-odds.
        #expect(abs(model.predict([Float.nan]) - 0.5) < 1e-7)
    }

    @Test func thePenalizedSolutionSatisfiesItsOptimalityCondition() throws {
        let data = Fixture.synthetic(rows: 3000, features: 4, seed: 31, missing: 0)
        let lambda = 5.0
        let model = try LogisticRegression.train(data, lambda: lambda).model
        // ∂/∂w_j [Σ logloss + λ/2 ‖w‖²] = Σ (p − y) z_j + λ w_j = 0 on standardized z; the
        // intercept's condition has no penalty.
        var gradient = [Double](repeating: 0, count: 5)
        for r in 0..<data.rows {
            let p = data.features.values.withUnsafeBufferPointer { model.predict($0.baseAddress! + r * 4) }
            let residual = p - Double(data.labels[r])
            gradient[0] += residual
            for j in 0..<4 {
                gradient[j + 1] += residual * (Double(data.features[r, j]) - model.means[j]) / model.scales[j]
            }
        }
        for j in 0..<4 { gradient[j + 1] += lambda * model.weights[j] }
        #expect(gradient.allSatisfy { abs($0) < 1e-6 })
        #expect(model.rawWeights[0] > 0 && model.rawWeights[1] < 0)
    }

    @Test func savesAndLoads() throws {
        let data = Fixture.synthetic(rows: 500, features: 3, seed: 2)
        let model = try LogisticRegression.train(data).model
        let path = Fixture.temporaryPath("logistic.json")
        try model.save(to: path)
        guard case .logistic(let loaded) = try AnyModel.load(path: path) else {
            Issue.record("not loaded as logistic")
            return
        }
        #expect(loaded == model)
    }
}
