import Foundation
import FsmlCore
import Testing

@testable import GBDT

/// Categorical features: bins by category, category sets by hand, the many-vs-many split against
/// every subset of categories, and models that split by category and keep those splits in every
/// format that can hold them.
@Suite struct CategoricalSplitTests {
    @Test func binsAreCategoriesMostFrequentFirst() {
        let mapper = BinMapper(categoricalSample: [3, 3, 3, 1, 1, 7, .nan, -2, 3.9], maxBin: 255)
        #expect(mapper.isCategorical && mapper.categories == [3, 1, 7] && mapper.sawMissing)
        #expect(mapper.bin(3) == 1 && mapper.bin(1.5) == 2 && mapper.bin(7) == 3)
        #expect(mapper.bin(.nan) == 0 && mapper.bin(-2) == 0 && mapper.bin(5) == 0)
        // Beyond maxBin categories, the rarest share bin 0.
        let capped = BinMapper(categoricalSample: [3, 3, 3, 1, 1, 7], maxBin: 2)
        #expect(capped.categories == [3, 1] && capped.bin(7) == 0 && capped.sawMissing && capped.totalBins == 3)
    }

    @Test func categorySetsByHand() {
        let set = CategorySet.bitset([0, 33])
        #expect(set == [1, 2] && CategorySet.members(set) == [0, 33])
        #expect(CategorySet.contains(set, 33.7) && CategorySet.contains(set, 0) && !CategorySet.contains(set, 1))
        // C's conversion truncates toward zero: −0.5 is category 0; −1 and NaN are none.
        #expect(CategorySet.contains(set, -0.5) && !CategorySet.contains(set, -1) && !CategorySet.contains(set, .nan))
        #expect(!CategorySet.contains(set, 64) && !CategorySet.contains(set, 3e9))
    }

    static func gain(_ left: [Int], _ g: [Double], _ h: [Double]) -> Double {
        func leaf(_ gs: Double, _ hs: Double) -> Double { gs * gs / hs }
        let (lg, lh) = left.reduce((0.0, 0.0)) { ($0.0 + g[$1], $0.1 + h[$1]) }
        let (tg, th) = (g.reduce(0, +), h.reduce(0, +))
        return leaf(lg, lh) + leaf(tg - lg, th - lh) - leaf(tg, th)
    }

    /// With no smoothing, regularisation or group limits, ordering categories by G / H and taking a
    /// prefix from either end finds the best of all 2^K − 2 ways to split them (Fisher's result
    /// for this gain), and one-vs-rest the best single category.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func manyVsManyIsTheBestOfEverySubset(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let k = 8
        // Bin 0 (missing) empty; hessians whole numbers, one row per unit of hessian.
        let g = [0.0] + (0..<k).map { _ in rng.normal() * 10 }
        let h = [0.0] + (0..<k).map { _ in Double(1 + rng.below(20)) }
        let hist = zip(g, h).map { SIMD2($0, $1) }
        var p = CategoricalSplitParams()
        (p.catSmooth, p.catL2, p.minDataPerGroup, p.maxCatThreshold, p.maxCatToOnehot) = (0, 0, 1, 64, 1)
        let constraints = SplitConstraints(minDataInLeaf: 1, minSumHessianInLeaf: 0, minGainToSplit: 0)
        let found = hist.withUnsafeBufferPointer {
            SplitFinder.bestCategorical(
                feature: 0, hist: $0.baseAddress!, bins: k + 1, totalG: g.reduce(0, +), totalH: h.reduce(0, +),
                count: Int(h.reduce(0, +)), math: SplitMath(lambdaL1: 0, lambdaL2: 0), constraints: constraints,
                params: p)
        }
        var best = -Double.infinity
        for mask in 1..<(1 << k) - 1 {
            best = max(best, Self.gain((1...k).filter { mask & (1 << ($0 - 1)) != 0 }, g, h))
        }
        #expect(abs(found.gain - best) <= 1e-9 * abs(best))
        #expect(abs(Self.gain(found.leftBins!.members, g, h) - found.gain) <= 1e-9 * abs(best))
        // One against the rest when there are few categories.
        p.maxCatToOnehot = 8
        let onehot = hist.withUnsafeBufferPointer {
            SplitFinder.bestCategorical(
                feature: 0, hist: $0.baseAddress!, bins: k + 1, totalG: g.reduce(0, +), totalH: h.reduce(0, +),
                count: Int(h.reduce(0, +)), math: SplitMath(lambdaL1: 0, lambdaL2: 0), constraints: constraints,
                params: p)
        }
        let single = (1...k).map { Self.gain([$0], g, h) }.max()!
        #expect(onehot.leftBins!.members.count == 1 && abs(onehot.gain - single) <= 1e-9 * abs(single))
    }

    /// The label is whether the category is in {1, 4, 7, 9} (of 0…11), with missing values among
    /// them; a second column is noise. One stump split by category separates the classes, which no
    /// threshold on the category number can.
    static func data(rows: Int, seed: UInt64) -> LabeledData {
        var rng = SeededRandom(seed: seed)
        var values: [Float] = []
        var labels: [Float] = []
        for _ in 0..<rows {
            let c = rng.below(12)
            let missing = rng.uniform() < 0.05
            labels.append(!missing && [1, 4, 7, 9].contains(c) ? 1 : 0)
            values += [missing ? .nan : Float(c), Float(rng.normal())]
        }
        var matrix = DenseMatrix(rows: rows, columns: 2, values: values)
        matrix.featureNames = ["kind", "noise"]
        return LabeledData(features: matrix, labels: labels)
    }

    @Test func aStumpSplitsBySet() throws {
        let data = Self.data(rows: 2400, seed: 7)
        let stump = ["num_leaves=2", "num_iterations=1", "min_data_per_group=20", "num_threads=1"]
        let model = try Booster.train(
            data, params: Fixture.params(stump + ["categorical_feature=name:kind", "objective=binary"])
        ).model
        let tree = model.trees[0]
        #expect(tree.hasCategoricalSplits && tree.splitFeature == [0])
        let left = CategorySet.members(tree.categorySets[0])
        #expect(left == [1, 4, 7, 9] || left == [0, 2, 3, 5, 6, 8, 10, 11])
        let p = FlatPredictor(model).predict(data.features)
        #expect(Metrics.auc(p, data.labels) == 1)
        // The same stump on the category as a number cannot.
        let numeric = try Booster.train(data, params: Fixture.params(stump)).model
        #expect(Metrics.auc(FlatPredictor(numeric).predict(data.features), data.labels) < 0.8)
    }

    @Test func categoricalModelsRoundTripAndExplain() throws {
        let data = Self.data(rows: 3000, seed: 8)
        let model = try Booster.train(
            data,
            params: Fixture.params([
                "categorical_feature=0", "num_iterations=20", "num_leaves=7", "min_data_per_group=20", "num_threads=1",
            ])
        ).model
        #expect(model.trees.contains { $0.hasCategoricalSplits })
        let want = FlatPredictor(model).predict(data.features)
        let path = Fixture.temporaryPath("cat.json")
        try model.save(to: path)
        #expect(try FileSystem.readText(path).contains("\"format_version\":3"))
        #expect(try GBDTModel.load(path: path) == model)
        try model.saveLightGBM(to: path + ".txt")
        #expect(FlatPredictor(try GBDTModel.loadLightGBM(path: path + ".txt")).predict(data.features) == want)
        #expect { try model.saveXGBoost(to: path + ".xgb") } throws: { "\($0)".contains("categorical") }
        #expect { try model.saveONNX(to: path + ".onnx") } throws: { "\($0)".contains("categorical") }
        // Contributions add up to the margin, categories and missing values alike.
        let shap = ModelExplainer(.gbdt(model)).contributions(data.features)
        for r in stride(from: 0, to: data.rows, by: 37) {
            let row = Array(data.features.values[r * 2..<r * 2 + 2])
            let sum = (0..<shap.width).reduce(0.0) { $0 + shap.values[r * shap.width + $1] }
            #expect(abs(sum - row.withUnsafeBufferPointer { model.margin($0.baseAddress!) }) < 1e-9)
        }
    }

    /// The flat predictor (sets in the nodes below 32 categories, tree walks above) scores as the
    /// plain tree walk does, for categories, edges and missing values alike.
    @Test(arguments: [1, 4] as [Float])
    func theFlatPredictorRoutesCategoriesAsTheTrees(scale: Float) throws {
        let base = Self.data(rows: 3000, seed: 10)
        // Scaled by 4, categories reach 44: past one 32-bit word.
        var values = base.features.values
        for r in 0..<base.rows { values[r * 2] *= scale }
        let data = LabeledData(features: DenseMatrix(rows: base.rows, columns: 2, values: values), labels: base.labels)
        let model = try Booster.train(
            data,
            params: Fixture.params([
                "categorical_feature=0", "num_iterations=12", "num_leaves=6", "min_data_per_group=20", "num_threads=1",
            ])
        ).model
        #expect(model.trees.contains { $0.hasCategoricalSplits })
        let edges: [Float] = [.nan, -2, -1, -0.5, 0, 0.99, 4, 4.5, 31, 31.9, 32, 36, 44, 1e9, -.infinity, .infinity]
        var rows = data.features.values
        for e in edges { rows += [e, 0.3] }
        let matrix = DenseMatrix(rows: rows.count / 2, columns: 2, values: rows)
        let flat = FlatPredictor(model).predict(matrix, margins: true)
        for r in 0..<matrix.rows {
            let want = rows.withUnsafeBufferPointer { model.margin($0.baseAddress! + 2 * r) }
            #expect(flat[r] == want, "row \(r): \(rows[2 * r])")
        }
    }

    @Test func badDeclarationsAreNamed() {
        let data = Self.data(rows: 200, seed: 9)
        #expect {
            try Booster.train(data, params: Fixture.params(["categorical_feature=name:colour"]))
        } throws: { "\($0)".contains("colour") }
        #expect {
            try Booster.train(data, params: Fixture.params(["categorical_feature=5"]))
        } throws: { "\($0)".contains("below 2") }
        #expect {
            try Booster.train(
                data, params: Fixture.params(["categorical_feature=0", "monotone_constraints=1,0"]))
        } throws: { "\($0)".contains("monotone") }
    }
}
