import FsmlCore
import Testing

@testable import GBDT

@Suite struct BootstrapTests {
    static func sample(_ n: Int, seed: UInt64) -> (p: [Double], y: [Float]) {
        var rng = SeededRandom(seed: seed)
        var p: [Double] = []
        var y: [Float] = []
        for _ in 0..<n {
            let label: Float = rng.bernoulli(0.3) ? 1 : 0
            // Scores on a coarse grid, so that ties occur.
            p.append((Double(label) * 0.3 + rng.uniform() * 0.7 * 20).rounded() / 20)
            y.append(label)
        }
        return (p, y)
    }

    /// Weighted AUC against the plain AUC of the rows repeated as often as their weights say.
    @Test func weightedAUCEqualsTheAUCOfRepeatedRows() {
        let (p, y) = Self.sample(300, seed: 4)
        var rng = SeededRandom(seed: 9)
        let weights = p.indices.map { _ in Int32(rng.below(4)) }
        var (rp, ry): ([Double], [Float]) = ([], [])
        for i in p.indices {
            for _ in 0..<weights[i] {
                rp.append(p[i])
                ry.append(y[i])
            }
        }
        let order = p.indices.sorted { p[$0] < p[$1] }
        let weighted = Bootstrap.weightedAUC(order: order, predictions: p, labels: y, weights: weights)
        #expect(abs(weighted - Metrics.auc(rp, ry)) < 1e-12)
        let ones = Bootstrap.weightedAUC(
            order: order, predictions: p, labels: y, weights: Array(repeating: 1, count: p.count))
        #expect(abs(ones - Metrics.auc(p, y)) < 1e-12)
    }

    @Test func intervalsHoldTheEstimateNarrowWithMoreRowsAndRepeat() {
        let (p, y) = Self.sample(400, seed: 1)
        let a = Bootstrap.intervals(predictions: p, labels: y, seed: 7)
        #expect(a.auc.contains(Metrics.auc(p, y)) && a.logloss.contains(Metrics.logloss(p, y)))
        #expect(a == Bootstrap.intervals(predictions: p, labels: y, seed: 7))
        let (bigP, bigY) = Self.sample(6400, seed: 1)
        let b = Bootstrap.intervals(predictions: bigP, labels: bigY, seed: 7)
        // Sixteen times the rows: about a quarter of the width.
        let ratio = (b.auc.upper - b.auc.lower) / (a.auc.upper - a.auc.lower)
        #expect(ratio > 0.15 && ratio < 0.4)
    }

    @Test func aPerfectRankingHasAnIntervalOfOne() {
        let p = (0..<100).map { Double($0) / 100 }
        let y = (0..<100).map { $0 >= 70 ? Float(1) : 0 }
        let i = Bootstrap.intervals(predictions: p, labels: y, resamples: 50, seed: 3)
        #expect(i.auc == Interval(lower: 1, upper: 1))
    }

    /// numpy.percentile's default (linear): for 1…5 at 95 %, 1.1 and 4.9.
    @Test func percentilesInterpolateAsNumpyDoes() {
        let i = Bootstrap.percentiles([5, 1, 4, 2, 3], 0.95)
        #expect(abs(i.lower - 1.1) < 1e-12 && abs(i.upper - 4.9) < 1e-12)
    }
}
