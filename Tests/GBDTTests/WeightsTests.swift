import Foundation
import FsmlCore
import Testing

@testable import GBDT

/// Sample weights: read as LightGBM reads them, counted in the loss and in every metric.
@Suite struct WeightsTests {
    /// binary.train with weights 1.2, 1.1, 1.0, 1.2, ... beside it, as LightGBM's example has them.
    static func weightedExample(in dir: String) throws -> LabeledData {
        try FileSystem.writeAtomically(
            try FileSystem.readBytes(Fixture.path("binary.train")), to: "\(dir)/binary.train")
        let rows = try DataLoader.load(path: "\(dir)/binary.train", format: .tsv).rows
        try FileSystem.writeAtomically(
            (0..<rows).map { ["1.2", "1.1", "1.0"][$0 % 3] }.joined(separator: "\n") + "\n",
            to: "\(dir)/binary.train.weight")
        return try DataLoader.load(path: "\(dir)/binary.train", format: .tsv)
    }

    static func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-w-\(UUID())").path
        try FileSystem.createDirectory(dir)
        return dir
    }

    @Test func aWeightFileBesideTheDataIsRead() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = try Self.weightedExample(in: dir)
        let weights = try #require(data.weights)
        #expect(weights.count == data.rows && weights.prefix(4) == [1.2, 1.1, 1.0, 1.2])
        try FileSystem.writeAtomically("y,w,x\n1,2,0.5\n0,0.5,1.5\n", to: "\(dir)/a.csv")
        let named = try DataLoader.load(path: "\(dir)/a.csv", format: .csv, labelColumn: "y", weightColumn: "w")
        #expect(
            named.weights == [2, 0.5] && named.features.featureNames == ["x"] && named.features.values == [0.5, 1.5])
        let indexed = try DataLoader.load(path: "\(dir)/a.csv", format: .csv, labelColumn: "0", weightColumn: "1")
        #expect(indexed.weights == [2, 0.5])
        try FileSystem.writeAtomically("1\n", to: "\(dir)/a.csv.weight")
        #expect { try DataLoader.load(path: "\(dir)/a.csv", format: .csv) } throws: {
            "\($0)".contains("1 values for 2 rows")
        }
        try FileSystem.writeAtomically("y,w,x\n1,-2,0.5\n", to: "\(dir)/b.csv")
        #expect {
            try DataLoader.load(path: "\(dir)/b.csv", format: .csv, labelColumn: "y", weightColumn: "w")
        } throws: {
            "\($0)".contains("b.csv:2: the weight must be a number 0 or more")
        }
    }

    /// Whole-number weights against the same rows repeated, by the unweighted metrics.
    @Test func weightedMetricsEqualRepeatedRows() {
        var rng = SeededRandom(seed: 6)
        let p = (0..<300).map { _ in (rng.uniform() * 20).rounded() / 20 }
        let y = p.map { rng.bernoulli($0) ? Float(1) : 0 }
        let w = p.map { _ in Float(rng.below(4)) }
        var (rp, ry): ([Double], [Float]) = ([], [])
        for i in p.indices {
            for _ in 0..<Int(w[i]) {
                rp.append(p[i])
                ry.append(y[i])
            }
        }
        for m in MetricKind.allCases where m.ndcgDepth == nil {
            let weighted = m.evaluate(predictions: p, labels: y, weights: w, alpha: 0.3)
            let repeated = m.evaluate(predictions: rp, labels: ry, alpha: 0.3)
            #expect(abs(weighted - repeated) < 1e-12, "\(m)")
        }
    }

    /// scikit-learn 1.9 on the same inputs: roc_auc_score, average_precision_score, log_loss with
    /// sample_weight.
    @Test func weightedMetricsMatchScikitLearn() {
        let p = [0.1, 0.4, 0.35, 0.8, 0.8, 0.2]
        let y: [Float] = [0, 0, 1, 1, 0, 1]
        let w: [Float] = [1, 2, 0.5, 3, 1, 0.25]
        #expect(abs(MetricKind.auc.evaluate(predictions: p, labels: y, weights: w) - 0.75) < 1e-12)
        #expect(abs(MetricKind.prAUC.evaluate(predictions: p, labels: y, weights: w) - 0.7088319088319088) < 1e-12)
        #expect(abs(MetricKind.logloss.evaluate(predictions: p, labels: y, weights: w) - 0.5591162412805679) < 1e-12)
    }

    /// Doubling every weight doubles gradients and hessians alike: the same trees (no L2 term and
    /// no hessian floor to tell them apart).
    @Test func uniformWeightsChangeNothingAndTheStartIsTheWeightedMean() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = try Self.weightedExample(in: dir)
        var plain = data
        plain.weights = nil
        var doubled = data
        doubled.weights = Array(repeating: 2, count: data.rows)
        let params = Fixture.params([
            "num_iterations=10", "lambda_l2=0", "min_sum_hessian_in_leaf=0", "num_threads=1",
        ])
        let a = try Booster.train(plain, params: params).model
        let b = try Booster.train(doubled, params: params).model
        #expect(a.trees.map(\.splitFeature) == b.trees.map(\.splitFeature))
        #expect(zip(a.trees, b.trees).allSatisfy { zip($0.leafValue, $1.leafValue).allSatisfy { abs($0 - $1) < 1e-9 } })
        let weighted = try Booster.train(data, params: params).model
        let w = data.weights!.map(Double.init)
        let mean = zip(data.labels, w).reduce(0.0) { $0 + Double($1.0) * $1.1 } / w.reduce(0, +)
        #expect(abs(weighted.initScore - log(mean / (1 - mean))) < 1e-12)
    }

    /// Rows that start from margins of their own (FILE.init): the model learns what to add, so
    /// starting from a first model's margins, a second model's margins add up to the first's
    /// continued training.
    @Test func initScoresStartBoostingWhereAnotherModelLeftOff() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var data = try DataLoader.load(path: Fixture.path("binary.train"), format: .tsv)
        data.weights = nil
        let params = Fixture.params(["num_iterations=5", "num_threads=1"])
        let first = try Booster.train(data, params: params).model
        let margins = FlatPredictor(first).predict(data.features, margins: true)
        try FileSystem.writeAtomically(try FileSystem.readBytes(Fixture.path("binary.train")), to: "\(dir)/d.train")
        try FileSystem.writeAtomically(
            margins.map { "\($0)" }.joined(separator: "\n") + "\n", to: "\(dir)/d.train.init")
        let continued = try DataLoader.load(path: "\(dir)/d.train", format: .tsv)
        #expect(continued.initScores == margins)
        let second = try Booster.train(continued, params: params).model
        #expect(second.initScore == 0)
        let ten = try Booster.train(data, params: Fixture.params(["num_iterations=10", "num_threads=1"])).model
        let sum = zip(margins, FlatPredictor(second).predict(data.features, margins: true)).map { $0 + $1 }
        let direct = FlatPredictor(ten).predict(data.features, margins: true)
        #expect(zip(sum, direct).allSatisfy { abs($0 - $1) < 1e-9 })
    }

    @Test func weightedQuantilesByHand() {
        // Points at the middle of each weight's share: 1 at 1/8, 2 at 1/2, 3 at 7/8.
        let v = [3.0, 1, 2]
        let w = [1.0, 1, 2]
        #expect(Quantiles.of(v, 0.5, weights: w) == 2)
        #expect(abs(Quantiles.of(v, 0.75, weights: w) - (2 + (0.75 - 0.5) / (0.875 - 0.5))) < 1e-12)
        #expect(Quantiles.of(v, 0.05, weights: w) == 1 && Quantiles.of(v, 0.95, weights: w) == 3)
        #expect(Quantiles.of([5, 9], 0.5, weights: [0, 1]) == 9)
    }
}
