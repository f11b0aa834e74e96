import Foundation
import FsmlCore
import Testing

@testable import GBDT

@Suite struct PartialDependenceTests {
    /// Every combination of 3 × 4 × 5 values, each row twice: features independent in the rows.
    static func factorial() -> LabeledData {
        var values: [Float] = []
        var labels: [Float] = []
        var rng = SeededRandom(seed: 11)
        for a in 0..<3 {
            for b in 0..<4 {
                for c in 0..<5 {
                    for _ in 0..<2 {
                        values += [Float(a), Float(b) * 10, Float(c) - 2]
                        let z: Double = Double(a) - 1 + 0.4 * Double(b) * Double(c - 2)
                        let p = 1 / (1 + exp(-z))
                        labels.append(rng.bernoulli(p) ? 1 : 0)
                    }
                }
            }
        }
        return LabeledData(
            features: DenseMatrix(rows: labels.count, columns: 3, values: values, featureNames: ["a", "b", "c"]),
            labels: labels)
    }

    /// On rows whose features are independent, the weighted traversal equals the brute-force mean
    /// of margins over the training rows: the oracle replaces the feature and walks each tree.
    @Test func recursionEqualsTheBruteForceMeanOnIndependentRows() throws {
        let data = Self.factorial()
        let model = try Booster.train(
            data,
            params: Fixture.params([
                "objective=binary", "num_iterations=20", "num_leaves=6", "min_data_in_leaf=4", "learning_rate=0.3",
                "num_threads=1",
            ])
        ).model
        #expect(model.trees.contains { $0.leaves > 2 })
        for feature in 0..<3 {
            let grid = PartialDependence.grid((0..<data.rows).map { data.features.values[$0 * 3 + feature] })
            let recursion = PartialDependence.recursion(model, feature: feature, grid: grid)
            for (k, v) in grid.enumerated() {
                var total = 0.0
                for r in 0..<data.rows {
                    var row = Array(data.features.values[r * 3..<(r + 1) * 3])
                    row[feature] = v
                    total += row.withUnsafeBufferPointer { model.margin($0.baseAddress!) }
                }
                #expect(abs(recursion[k] - total / Double(data.rows)) < 1e-9, "feature \(feature) at \(v)")
            }
        }
    }

    @Test func iceCurvesReplaceOneFeatureAndAverageToTheBruteForceDependence() throws {
        let data = Self.factorial()
        let model = try Booster.train(
            data, params: Fixture.params(["objective=binary", "num_iterations=10", "num_leaves=4", "num_threads=1"])
        ).model
        let predictor = FlatPredictor(model)
        let grid: [Float] = [0, 1, 2]
        let curves = PartialDependence.individual(
            predictor, data: data.features, feature: 0, grid: grid, rows: [0, 7, 50])
        #expect(curves.count == 3 && curves.allSatisfy { $0.count == 3 })
        var row = Array(data.features.values[7 * 3..<8 * 3])
        row[0] = 2
        #expect(curves[1][2] == model.predict(row))
        #expect(PartialDependence.average([[1, 2], [3, 6]]) == [2, 4])
    }

    @Test func theGridIsTheDistinctValuesOrPercentiles() {
        #expect(PartialDependence.grid([3, 1, .nan, 1, 2]) == [1, 2, 3])
        let many = (0..<1001).map { Float($0) }
        let grid = PartialDependence.grid(many, resolution: 5)
        #expect(grid == [50, 275, 500, 725, 950])
    }
}
