import FsmlCore
import Testing

@testable import GBDT

/// The radix order of scores against what it must be: a permutation, the scores not decreasing
/// along it, and rows of equal scores in row order.
@Suite struct ScoreOrderTests {
    static func check(_ scores: [Double]) {
        let order = ScoreOrder.ascending(scores)
        #expect(order.sorted() == Array(scores.indices))
        for (a, b) in zip(order, order.dropFirst()) {
            #expect(scores[a] <= scores[b], "\(scores[a]) before \(scores[b])")
            if scores[a].bitPattern == scores[b].bitPattern { #expect(a < b) }
        }
    }

    @Test func ordersScoresOfEverySignAndSizeStably() {
        var rng = SeededRandom(seed: 3)
        // Few distinct values (many ties), both signs, zeros of both signs, tiny and huge numbers.
        let pool: [Double] = [0, -0.0, 1, -1, 0.5, -0.5, 1e-300, -1e-300, 1e300, -1e300, .infinity, -.infinity]
        for size in [0, 1, 2, 7, 300, 5000] {
            Self.check(
                (0..<size).map { _ in
                    rng.bernoulli(0.3)
                        ? pool[rng.below(pool.count)] : (rng.uniform() - 0.5) * Double(1 << rng.below(40))
                })
        }
        // Probabilities of one size, where the high bytes are all the same: the passes it skips.
        Self.check((0..<2000).map { _ in 0.25 + rng.uniform() / 8 })
        #expect(ScoreOrder.ascending([3, -2, 3, 0, -2]) == [1, 4, 3, 0, 2])
    }
}
