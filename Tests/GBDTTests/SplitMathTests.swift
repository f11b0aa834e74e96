import FsmlCore
import Testing

@testable import GBDT

@Suite struct SplitMathTests {
    @Test func gainAndWeightsMatchAHandComputedCase() {
        let m = SplitMath(lambdaL1: 0, lambdaL2: 1)
        // Left G=-4 H=2, right G=6 H=3: 16/3 + 36/4 − 4/6.
        #expect(abs(m.splitGain(leftG: -4, leftH: 2, rightG: 6, rightH: 3) - (16.0 / 3 + 9 - 4.0 / 6)) < 1e-12)
        #expect(m.leafWeight(-4, 2) == 4.0 / 3)
        #expect(m.leafWeight(6, 3) == -1.5)
        // L1 soft-thresholds the gradient sums by 1: T(-4) = -3, T(6) = 5, T(2) = 1.
        let l1 = SplitMath(lambdaL1: 1, lambdaL2: 1)
        #expect(abs(l1.splitGain(leftG: -4, leftH: 2, rightG: 6, rightH: 3) - (3.0 + 6.25 - 1.0 / 6)) < 1e-12)
        #expect(l1.leafWeight(-4, 2) == 1)
        #expect(l1.leafWeight(6, 3) == -1.25)
        #expect(l1.leafWeight(0.5, 3) == 0)
    }

    @Test func aFourRowRegressionTreeIsExact() throws {
        // x = 1 2 3 4, y = 1 1 5 5: the mean is 3, gradients 2 2 −2 −2, one split at 2.5 and
        // leaves −2 and +2 with learning rate 1: predictions are the labels.
        let data = LabeledData(features: DenseMatrix(rows: 4, columns: 1, values: [1, 2, 3, 4]), labels: [1, 1, 5, 5])
        let result = try Booster.train(
            data,
            params: Fixture.params([
                "objective=regression", "num_iterations=1", "learning_rate=1", "num_leaves=2", "min_data_in_leaf=1",
                "min_sum_hessian_in_leaf=0",
            ]))
        let tree = result.model.trees[0]
        #expect(tree.internalNodes == 1)
        #expect(tree.threshold[0] == 2.5)
        #expect(tree.leafValue == [-2, 2])
        #expect(tree.splitGain[0] == 16)
        #expect(result.model.initScore == 3)
        #expect(FlatPredictor(result.model).predict(data.features) == [1, 1, 5, 5])
    }

    /// The count constraint as two comparisons against rounding each estimate and counting: at
    /// halves, next to them, at the largest value below ½, and at seeded values of every magnitude.
    @Test func countLimitsAllowWhatRoundingTheCountsAllows() {
        var estimates: [Double] = [0, 0.5, 0.49999999999999994, 1.5, 2.5]
        for k in 0..<300 {
            let half = Double(k) + 0.5
            estimates += [half, half.nextUp, half.nextDown, Double(k), Double(k).nextUp, Double(k).nextDown]
        }
        var rng = SeededRandom(seed: 5)
        for _ in 0..<20_000 { estimates.append(rng.uniform() * Double(1 << rng.below(12))) }
        for count in [0, 1, 2, 7, 40, 41, 299, 2048] {
            for m in [0, 1, 2, 3, 20, 150] {
                let limits = CountLimits(count: count, minDataInLeaf: m)
                for x in estimates where x >= 0 {
                    let left = Int(x.rounded())
                    #expect(limits.allow(x) == (left >= m && count - left >= m), "count \(count) min \(m) x \(x)")
                }
            }
        }
    }
}
