import FsmlCore
import Testing

@testable import GBDT

/// The histogram split against an exact greedy search over sorted values, on small random data
/// where every distinct value has its own bin.
@Suite struct SplitOracleTests {
    struct Exact {
        var feature = -1
        var gain = -Double.infinity
        var leftRows: Set<Int> = []
    }

    /// Every threshold between consecutive distinct values, missing values on either side.
    static func exactGreedy(_ data: LabeledData, g: [Double], h: [Double], math: SplitMath, minData: Int) -> Exact {
        var best = Exact()
        let n = data.rows
        let totalG = g.reduce(0, +)
        let totalH = h.reduce(0, +)
        let parent = math.leafGain(totalG, totalH)
        for f in 0..<data.features.columns {
            let present = (0..<n).filter { !data.features[$0, f].isNaN }.sorted {
                data.features[$0, f] < data.features[$1, f]
            }
            let missing = (0..<n).filter { data.features[$0, f].isNaN }
            let mg = missing.reduce(0.0) { $0 + g[$1] }
            let mh = missing.reduce(0.0) { $0 + h[$1] }
            var lg = 0.0
            var lh = 0.0
            for (k, row) in present.enumerated() {
                lg += g[row]
                lh += h[row]
                let isBoundary = k + 1 == present.count || data.features[present[k + 1], f] != data.features[row, f]
                guard isBoundary else { continue }
                if k + 1 == present.count && missing.isEmpty { continue }
                for missingLeft in [false, true] {
                    let cg = missingLeft ? lg + mg : lg
                    let ch = missingLeft ? lh + mh : lh
                    let leftCount = k + 1 + (missingLeft ? missing.count : 0)
                    guard leftCount >= minData, n - leftCount >= minData, ch > 0, totalH - ch > 0 else { continue }
                    let gain = math.leafGain(cg, ch) + math.leafGain(totalG - cg, totalH - ch) - parent
                    if gain > best.gain + 1e-12 {
                        best = Exact(
                            feature: f, gain: gain, leftRows: Set(present[0...k] + (missingLeft ? missing : [])))
                    }
                }
            }
        }
        return best
    }

    @Test(arguments: 0..<25)
    func theHistogramSplitIsTheExactGreedySplit(seed: Int) throws {
        var rng = SeededRandom(seed: UInt64(seed))
        let rows = 60 + rng.below(200)
        let features = 1 + rng.below(4)
        var values: [Float] = []
        for _ in 0..<rows * features {
            // Few distinct values, so that every value has a bin; some missing.
            values.append(rng.uniform() < 0.1 ? .nan : Float(rng.below(40)) / 4)
        }
        let labels = (0..<rows).map { _ in Float(rng.below(2)) }
        let data = LabeledData(features: DenseMatrix(rows: rows, columns: features, values: values), labels: labels)
        let minData = 1 + rng.below(10)
        let params = Fixture.params([
            "num_iterations=1", "num_leaves=2", "min_data_in_leaf=\(minData)", "min_sum_hessian_in_leaf=0",
            "lambda_l2=1",
            "learning_rate=1",
        ])
        let result = try Booster.train(data, params: params)
        let p = labels.reduce(0.0) { $0 + Double($1) } / Double(rows)
        // Training keeps gradients in Float32; the oracle rounds them the same way.
        let g = labels.map { Double(Float(p - Double($0))) }
        let h = [Double](repeating: Double(Float(max(p * (1 - p), 1e-16))), count: rows)
        let exact = Self.exactGreedy(data, g: g, h: h, math: SplitMath(lambdaL1: 0, lambdaL2: 1), minData: minData)
        let tree = result.model.trees[0]
        guard exact.feature >= 0 else {
            #expect(tree.internalNodes == 0)
            return
        }
        #expect(tree.internalNodes == 1)
        #expect(abs(tree.splitGain[0] - exact.gain) <= 1e-9 * max(1, abs(exact.gain)))
        // The same rows go left (the best gain may be tied between features; then the gain is what counts).
        let goesLeft = Set(
            (0..<rows).filter { r in
                let x = data.features[r, Int(tree.splitFeature[0])]
                return x.isNaN ? tree.defaultLeft[0] : x <= tree.threshold[0]
            })
        if Int(tree.splitFeature[0]) == exact.feature { #expect(goesLeft == exact.leftRows) }
    }
}
