import Foundation
import FsmlCore
import Testing

@testable import GBDT

@Suite struct MetricsTests {
    @Test func aucAndAveragePrecisionWithTiesByHand() {
        let scores = [0.1, 0.4, 0.4, 0.8]
        let labels: [Float] = [0, 0, 1, 1]
        // Pairs: (0.4+, 0.1−) 1, (0.4+, 0.4−) ½, (0.8+, both) 2: 3.5 of 4.
        #expect(Metrics.auc(scores, labels) == 0.875)
        // 0.8: recall ½ at precision 1; the tied 0.4s: recall 1 at precision ⅔.
        #expect(abs(Metrics.averagePrecision(scores, labels) - (0.5 + 0.5 * 2 / 3)) < 1e-15)
        let both = Metrics.rankingMetrics(scores, labels)
        #expect(both.auc == 0.875)
        #expect(abs(both.ap - (0.5 + 1.0 / 3)) < 1e-15)
        #expect(Metrics.auc([0.5, 0.5, 0.5], [0, 1, 1]) == 0.5)
        #expect(Metrics.auc([0.2, 0.3], [1, 1]).isNaN)
    }

    @Test func loglossRMSEAndAccuracy() {
        #expect(abs(Metrics.logloss([0.8, 0.3], [1, 0]) - (-(log(0.8) + log(0.7)) / 2)) < 1e-15)
        #expect(Metrics.rmse([1, 3], [2, 5]) == (2.5).squareRoot())
        #expect(Metrics.accuracy([0.6, 0.4, 0.5], [1, 1, 0]) == 1.0 / 3)
    }

    /// The one-pass ranking metrics against the separate definitions, over seeded scores drawn from
    /// few values (many ties) and from many.
    @Test(arguments: 0..<8)
    func rankingMetricsEqualTheDefinitions(seed: Int) {
        var rng = SeededRandom(seed: UInt64(seed))
        let count = 1 + rng.below(500)
        let values = seed % 2 == 0 ? 5 : 100_000
        let scores = (0..<count).map { _ in Double(rng.below(values)) / Double(values) }
        let labels: [Float] = (0..<count).map { _ in rng.bernoulli(0.3) ? 1 : 0 }
        let both = Metrics.rankingMetrics(scores, labels)
        let auc = Metrics.auc(scores, labels)
        #expect(both.auc == auc || (both.auc.isNaN && auc.isNaN))
        let ap = Metrics.averagePrecision(scores, labels)
        #expect(abs(both.ap - ap) < 1e-12 || (both.ap.isNaN && ap.isNaN))
        // Sorting positives and negatives on two threads changes nothing.
        let shared = Metrics.rankingMetrics(scores, labels, team: WorkerTeam(size: 2))
        #expect(shared.auc.bitPattern == both.auc.bitPattern && shared.ap.bitPattern == both.ap.bitPattern)
    }
}
