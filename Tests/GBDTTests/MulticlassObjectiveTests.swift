import Foundation
import FsmlCore
import Testing

@testable import GBDT

/// Softmax gradients and starting scores by hand and against finite differences of the loss,
/// the multiclass metrics by hand, and models that learn three classes and survive every format.
@Suite struct MulticlassObjectiveTests {
    static func gradients(scores: [Double], labels: [Float], classes: Int) -> ([Float], [Float]) {
        let n = labels.count
        var g = [Float](repeating: 9, count: n * classes)
        var h = g
        scores.withUnsafeBufferPointer { s in
            labels.withUnsafeBufferPointer { y in
                MulticlassObjective.gradients(
                    scores: s.baseAddress!, labels: y.baseAddress!, rowCount: n, classes: classes, gradients: &g,
                    hessians: &h, rows: 0..<n)
            }
        }
        return (g, h)
    }

    /// Margins (0, ln 2, 0) give probabilities (¼, ½, ¼); label 1: gradients p − [k = 1], hessians
    /// p(1 − p) · 3/2.
    @Test func softmaxGradientsByHand() {
        let (g, h) = Self.gradients(scores: [0, log(2), 0], labels: [1], classes: 3)
        #expect(g == [0.25, -0.5, 0.25])
        #expect(h == [Float(1.5 * 0.1875), Float(1.5 * 0.25), Float(1.5 * 0.1875)])
    }

    /// The gradient is the derivative of −log softmax(label), taken numerically; two rows,
    /// class-major scores.
    @Test func gradientsAreTheLossDerivative() {
        let scores: [Double] = [0.3, -1.2, 0.7, 0.1, -0.4, 2.0]  // 3 classes × 2 rows
        let labels: [Float] = [2, 0]
        let (g, _) = Self.gradients(scores: scores, labels: labels, classes: 3)
        func loss(_ s: [Double], row i: Int) -> Double {
            let margins = (0..<3).map { s[$0 * 2 + i] }
            return -margins[Int(labels[i])] + log(margins.map(exp).reduce(0, +))
        }
        for i in 0..<2 {
            for k in 0..<3 {
                var up = scores
                var down = scores
                up[k * 2 + i] += 1e-6
                down[k * 2 + i] -= 1e-6
                let numeric = (loss(up, row: i) - loss(down, row: i)) / 2e-6
                #expect(abs(Double(g[k * 2 + i]) - numeric) < 1e-6, "row \(i) class \(k)")
            }
        }
    }

    @Test func startingScoresAreLogPriors() {
        let s = MulticlassObjective.initialScores(labels: [0, 0, 1, 2], weights: nil, classes: 4)
        #expect(s[0] == log(0.5) && s[1] == log(0.25) && s[2] == log(0.25) && s[3] == log(1e-15))
        let w = MulticlassObjective.initialScores(labels: [0, 1], weights: [3, 1], classes: 2)
        #expect(w == [log(0.75), log(0.25)])
    }

    @Test func metricsByHand() {
        // Two rows of three probabilities; labels 0 and 2.
        let p = [0.7, 0.2, 0.1, 0.5, 0.3, 0.2]
        let y: [Float] = [0, 2]
        #expect(abs(MetricKind.multiLogloss.evaluate(predictions: p, labels: y) - (-log(0.7) - log(0.2)) / 2) < 1e-15)
        #expect(MetricKind.multiError.evaluate(predictions: p, labels: y) == 0.5)
        #expect(MetricKind.multiError.evaluate(predictions: p, labels: y, weights: [3, 1]) == 0.25)
        #expect(MetricKind(name: "mlogloss") == .multiLogloss && MetricKind(name: "merror") == .multiError)
    }

    /// Three classes from two features (with missing values): the label is the region of the plane.
    static func threeClasses(rows: Int, seed: UInt64) -> LabeledData {
        var rng = SeededRandom(seed: seed)
        var values: [Float] = []
        var labels: [Float] = []
        for _ in 0..<rows {
            var row = (0..<4).map { _ in Float(rng.normal()) }
            let noisy = Double(row[0]) + 0.3 * rng.normal()
            labels.append(noisy < -0.5 ? 0 : Double(row[1]) > 0 ? 1 : 2)
            if rng.uniform() < 0.05 { row[1] = .nan }
            values += row
        }
        return LabeledData(features: DenseMatrix(rows: rows, columns: 4, values: values), labels: labels)
    }

    @Test func learnsThreeClassesAndKeepsWholeRounds() throws {
        let train = Self.threeClasses(rows: 3000, seed: 1)
        let valid = Self.threeClasses(rows: 1000, seed: 2)
        let result = try Booster.train(
            train, valid: valid,
            params: Fixture.params([
                "objective=multiclass", "num_class=3", "num_iterations=200", "early_stopping_rounds=5",
                "num_threads=2",
            ]))
        let m = result.model
        #expect(m.numClass == 3 && m.trees.count == 3 * result.bestIteration && result.bestIteration < 200)
        let p = FlatPredictor(m).predict(valid.features)
        #expect(p.count == 3 * valid.rows)
        for i in 0..<valid.rows { #expect(abs(p[3 * i] + p[3 * i + 1] + p[3 * i + 2] - 1) < 1e-12) }
        // The plain tree walk and the flat predictor agree bit for bit.
        for i in stride(from: 0, to: valid.rows, by: 97) {
            let row = Array(valid.features.values[i * 4..<(i + 1) * 4])
            #expect(m.predictClasses(row) == Array(p[3 * i..<3 * i + 3]))
        }
        let error = MetricKind.multiError.evaluate(predictions: p, labels: valid.labels)
        let prior = 1 - Double(valid.labels.filter { $0 == 2 }.count) / Double(valid.rows)
        #expect(error < 0.15 && error < prior / 2, "error \(error), always guessing the commonest class \(prior)")
        // The history's last valid loss is the model's, at its best round.
        let recorded = result.history[result.bestIteration - 1].valid[0]
        #expect(recorded.metric == .multiLogloss)
        #expect(abs(recorded.value - MetricKind.multiLogloss.evaluate(predictions: p, labels: valid.labels)) < 1e-12)
    }

    @Test func modelsTravelThroughEveryFormat() throws {
        let train = Self.threeClasses(rows: 1500, seed: 3)
        let m = try Booster.train(
            train, params: Fixture.params(["objective=softmax", "num_iterations=15", "num_threads=1"])
        ).model
        #expect(m.numClass == 3)  // from the labels
        let want = FlatPredictor(m).predict(train.features)
        let path = Fixture.temporaryPath("mc.json")
        try m.save(to: path)
        #expect(try GBDTModel.load(path: path) == m)
        try m.saveLightGBM(to: path + ".txt")
        let lightgbm = try GBDTModel.loadLightGBM(path: path + ".txt")
        #expect(lightgbm.numClass == 3 && FlatPredictor(lightgbm).predict(train.features) == want)
        try m.saveXGBoost(to: path + ".xgb.json")
        let xgboost = try GBDTModel.loadXGBoost(path: path + ".xgb.json")
        let got = FlatPredictor(xgboost).predict(train.features)
        // XGBoost keeps leaf values in Float32.
        #expect(xgboost.numClass == 3 && zip(got, want).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(AnyModel.gbdt(m).outputsPerRow == 3)
    }

    @Test func badClassesAreNamed() {
        let data = Self.threeClasses(rows: 200, seed: 4)
        #expect {
            try Booster.train(data, params: Fixture.params(["objective=multiclass", "num_class=2"]))
        } throws: { "\($0)".contains("class label 2") && "\($0)".contains("num_class=2") }
        var fractional = data
        fractional.labels[0] = 1.5
        #expect {
            try Booster.train(fractional, params: Fixture.params(["objective=multiclass"]))
        } throws: { "\($0)".contains("whole numbers") }
    }
}
