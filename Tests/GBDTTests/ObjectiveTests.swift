import Foundation
import FsmlCore
import Testing

@testable import GBDT

/// The regression losses beyond L2: gradients and metrics by hand, leaf renewal against the
/// median it must reach, quantile coverage, Poisson's link, and `alpha` read as LightGBM reads it.
@Suite struct ObjectiveTests {
    static func gradients(
        _ o: ObjectiveKind, scores: [Double], labels: [Float], alpha: Double = 0.9
    ) -> (
        [Float], [Float]
    ) {
        var g = [Float](repeating: 0, count: scores.count)
        var h = [Float](repeating: 0, count: scores.count)
        o.gradients(
            scores: scores, labels: labels, gradients: &g, hessians: &h, rows: 0..<scores.count, alpha: alpha,
            maxDeltaStep: 0.7)
        return (g, h)
    }

    @Test func gradientsByHand() {
        let s = [0.0, 2.0, -1.0]
        let y: [Float] = [1, 0.5, -1]
        #expect(Self.gradients(.regressionL1, scores: s, labels: y).0 == [-1, 1, 0])
        // Huber at threshold 1: the residual inside, ±1 beyond.
        #expect(Self.gradients(.huber, scores: s, labels: y, alpha: 1).0 == [-1, 1, 0])
        #expect(Self.gradients(.huber, scores: [0.3], labels: [0], alpha: 1).0 == [0.3])
        // Quantile 0.2: 1 − 0.2 above the label, −0.2 at or below.
        #expect(Self.gradients(.quantile, scores: s, labels: y, alpha: 0.2).0 == [-0.2, 0.8, -0.2])
        let (g, h) = Self.gradients(.poisson, scores: [log(3.0)], labels: [5])
        #expect(abs(Double(g[0]) - (3 - 5)) < 1e-6 && abs(Double(h[0]) - 3 * exp(0.7)) < 1e-5)
    }

    @Test func metricsByHand() {
        let p = [1.0, 3.0]
        let y: [Float] = [2, 2]
        #expect(MetricKind.mae.evaluate(predictions: p, labels: y) == 1)
        // Pinball at 0.9: under the label 0.9 · 1, over it 0.1 · 1.
        #expect(abs(MetricKind.quantile.evaluate(predictions: p, labels: y, alpha: 0.9) - 0.5) < 1e-12)
        // Huber at 0.5: 0.5 · (1 − 0.25) for each.
        #expect(abs(MetricKind.huber.evaluate(predictions: p, labels: y, alpha: 0.5) - 0.375) < 1e-12)
        #expect(abs(MetricKind.poisson.evaluate(predictions: [2], labels: [3]) - (2 - 3 * log(2.0))) < 1e-12)
    }

    /// One round at learning rate 1 of an L1 stump: each side's prediction is its median, where
    /// L2 would give its mean (an outlier on each side drags the mean far away).
    @Test func l1LeavesAreRenewedToTheMedian() throws {
        let x: [Float] = [0, 0, 0, 0, 1, 1, 1, 1]
        let y: [Float] = [1, 2, 3, 100, 10, 11, 12, -50]
        let data = LabeledData(features: DenseMatrix(rows: 8, columns: 1, values: x), labels: y)
        let result = try Booster.train(
            data,
            params: Fixture.params([
                "objective=regression_l1", "num_iterations=1", "learning_rate=1", "num_leaves=2",
                "min_data_in_leaf=1", "min_sum_hessian_in_leaf=0", "num_threads=1",
            ]))
        #expect(result.model.initScore == 6.5)  // the median of the labels
        #expect(result.model.predict([0]) == 2.5 && result.model.predict([1]) == 10.5)
    }

    @Test func quantileModelsCoverTheirQuantile() throws {
        var rng = SeededRandom(seed: 8)
        let n = 4000
        var x: [Float] = []
        var y: [Float] = []
        for _ in 0..<n {
            let v = Float(rng.uniform() * 4)
            x.append(v)
            y.append(v + Float(rng.normal()) * (1 + v))
        }
        let data = LabeledData(features: DenseMatrix(rows: n, columns: 1, values: x), labels: y)
        for alpha in [0.2, 0.8] {
            let model = try Booster.train(
                data,
                params: Fixture.params([
                    "objective=quantile", "alpha=\(alpha)", "num_iterations=60", "num_leaves=8", "num_threads=1",
                ])
            ).model
            let below = (0..<n).filter { Double(y[$0]) <= model.predict([x[$0]]) }.count
            #expect(abs(Double(below) / Double(n) - alpha) < 0.04, "alpha \(alpha): \(below) of \(n) at or below")
            #expect(model.parameters["alpha"] == "\(alpha)")
        }
    }

    @Test func poissonPredictsPositiveCountsFromTheLogOfTheMean() throws {
        var rng = SeededRandom(seed: 3)
        var x: [Float] = []
        var y: [Float] = []
        for _ in 0..<2000 {
            let v = Float(rng.uniform())
            x.append(v)
            // Counts with mean exp(1 + 2v), drawn by inversion.
            let mean = exp(1 + 2 * Double(v))
            var (k, p) = (0, exp(-mean))
            let u = rng.uniform()
            var cumulative = p
            while u > cumulative && k < 200 {
                k += 1
                p *= mean / Double(k)
                cumulative += p
            }
            y.append(Float(k))
        }
        let data = LabeledData(features: DenseMatrix(rows: 2000, columns: 1, values: x), labels: y)
        let model = try Booster.train(
            data, params: Fixture.params(["objective=poisson", "num_iterations=80", "num_leaves=4", "num_threads=1"])
        ).model
        let mean = y.reduce(0.0) { $0 + Double($1) } / 2000
        #expect(abs(model.initScore - log(mean)) < 1e-12)
        for v: Float in [0.1, 0.5, 0.9] {
            let want = exp(1 + 2 * Double(v))
            #expect(abs(model.predict([v]) - want) / want < 0.15, "at \(v): \(model.predict([v])) against \(want)")
        }
        #expect(ObjectiveKind.poisson.validate(labels: [1, -1]) != nil)
        #expect(ObjectiveKind.poisson.validate(labels: [0, 0]) != nil)
    }

    /// `alpha` is LightGBM's objective parameter for Huber and quantile, XGBoost's L1 otherwise,
    /// whichever comes first on the command line.
    @Test func alphaIsReadByTheObjectiveInForce() throws {
        let quantile = Fixture.params(["alpha=0.3", "objective=quantile"])
        #expect(quantile.objectiveAlpha == 0.3 && quantile.lambdaL1 == 0)
        let binary = Fixture.params(["alpha=0.3", "objective=binary"])
        #expect(binary.lambdaL1 == 0.3 && binary.objectiveAlpha == 0.9)
        let both = Fixture.params(["objective=huber", "reg_alpha=2", "alpha=1.5"])
        #expect(both.lambdaL1 == 2 && both.objectiveAlpha == 1.5)
        #expect(Fixture.params(["quantile_alpha=0.25"]).objectiveAlpha == 0.25)
        #expect(throws: TrainingError.self) {
            try Booster.train(
                LabeledData(features: DenseMatrix(rows: 2, columns: 1, values: [0, 1]), labels: [0, 1]),
                params: Fixture.params(["objective=quantile", "alpha=1.5"]))
        }
    }
}
