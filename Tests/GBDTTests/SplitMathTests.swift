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
                    #expect(limits.allowsRight(x) == (count - left >= m), "count \(count) min \(m) x \(x)")
                }
            }
        }
    }

    /// A feature is feasible when some threshold leaves both sides enough rows and hessian, whether
    /// or not that split gains: by hand, on four bins of one row each (hessian 1 a row).
    @Test func aFeatureIsFeasibleWhenSomeThresholdMeetsTheLeafLimits() {
        // Bin 0 is missing values (none); bins 1–4 hold one row each, gradients −1 −1 +1 +1.
        let hist: [SIMD2<Double>] = [.zero, [-1, 1], [-1, 1], [1, 1], [1, 1]]
        let math = SplitMath(lambdaL1: 0, lambdaL2: 0)
        func best(minData: Int, minGain: Double) -> SplitCandidate {
            hist.withUnsafeBufferPointer {
                SplitFinder.best(
                    feature: 0, hist: $0.baseAddress!, bins: 5, totalG: 0, totalH: 4, count: 4, math: math,
                    constraints: SplitConstraints(
                        minDataInLeaf: minData, minSumHessianInLeaf: 0, minGainToSplit: minGain))
            }
        }
        // Two rows a side: the split at bin 2, gain 2 + 2 − 0.
        let two = best(minData: 2, minGain: 0)
        #expect(two.thresholdBin == 2 && two.gain == 4 && two.feasible)
        // Three rows a side cannot be had: no split, and not feasible.
        let three = best(minData: 3, minGain: 0)
        #expect(!three.isValid && !three.feasible)
        // Feasible but not gaining enough: no split, still feasible (its children may gain).
        let greedy = best(minData: 2, minGain: 10)
        #expect(!greedy.isValid && greedy.feasible)
    }
}
