import Foundation
import FsmlCore
import Testing

@testable import GBDT

/// Learning to rank: LambdaMART and XE-NDCG gradients and NDCG by hand, query files, and a model
/// that learns to order synthetic queries.
@Suite struct RankingTests {
    static func gradients(
        _ f: (UnsafePointer<Double>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) ->
            Void, count: Int, scores: [Double], labels: [Float]
    ) -> ([Float], [Float]) {
        var g = [Float](repeating: 9, count: count)
        var h = [Float](repeating: 9, count: count)
        scores.withUnsafeBufferPointer { s in
            labels.withUnsafeBufferPointer { y in f(s.baseAddress!, y.baseAddress!, &g, &h) }
        }
        return (g, h)
    }

    /// Two documents at the same score, relevance 1 and 0: the pair's NDCG change is
    /// 1 − 1 / log2(3); the lambda −½ change, normalised by log2(1 + change) / change.
    @Test func lambdarankByHand() {
        let objective = RankingObjective()
        let (g, h) = Self.gradients(
            { s, y, g, h in
                objective.lambdarank(scores: s, labels: y, g: g, h: h, range: 0..<2)
            }, count: 2, scores: [0, 0], labels: [1, 0])
        let change = 1 - 1 / log2(3.0)
        #expect(abs(Double(g[0]) - -0.5 * log2(1 + change)) < 1e-6 && abs(Double(g[1]) - 0.5 * log2(1 + change)) < 1e-6)
        #expect(abs(Double(h[0]) - 0.25 * log2(1 + change)) < 1e-6 && h[0] == h[1])
        // A query of equal labels, or one document, has nothing to order.
        let (flat, _) = Self.gradients(
            { s, y, g, h in
                objective.lambdarank(scores: s, labels: y, g: g, h: h, range: 0..<3)
            }, count: 3, scores: [1, 2, 3], labels: [2, 2, 2])
        #expect(flat == [0, 0, 0])
    }

    /// Softmax (½, ½), targets from gains 2 and 1 with no noise: first-order terms ∓1/6, and the
    /// second and third orders cancel to leave ∓1/6; hessians ρ(1 − ρ) = ¼.
    @Test func xendcgByHand() {
        let (g, h) = Self.gradients(
            { s, y, g, h in
                RankingObjective().xendcg(scores: s, labels: y, g: g, h: h, range: 0..<2) { _ in 0 }
            }, count: 2, scores: [0, 0], labels: [1, 0])
        #expect(abs(Double(g[0]) + 1.0 / 6) < 1e-7 && abs(Double(g[1]) - 1.0 / 6) < 1e-7)
        #expect(h == [0.25, 0.25])
    }

    @Test func ndcgByHand() {
        let labels: [Float] = [3, 2, 0, 1]
        // Scored in reverse relevance order for the first three, the fourth last.
        let scores = [0.1, 0.2, 0.9, 0.0]
        let dcg = 0 + 3 / log2(3.0) + 7 / log2(4.0) + 1 / log2(5.0)
        let ideal = 7 + 3 / log2(3.0) + 1 / log2(4.0) + 0
        #expect(abs(NDCG.of(scores, labels, 0..<4, k: 4) - dcg / ideal) < 1e-12)
        #expect(NDCG.of(scores, labels, 0..<4, k: 1) == 0)
        #expect(NDCG.of([1, 2], [0, 0], 0..<2, k: 5) == 1)  // nothing relevant: 1, as LightGBM counts it
        #expect(
            abs(NDCG.mean(scores + [1, 2], labels + [0, 0], offsets: [0, 4, 6], k: 4) - (dcg / ideal + 1) / 2) < 1e-12)
    }

    /// NDCG at several depths at once is NDCG at each depth alone, over queries of every size
    /// (shorter and longer than the depths), with ties in score and whole and fractional labels.
    @Test func ndcgAtSeveralDepthsIsEachDepthAlone() {
        var rng = SeededRandom(seed: 11)
        var offsets = [0]
        for _ in 0..<40 { offsets.append(offsets.last! + 1 + rng.below(15)) }
        let n = offsets.last!
        let scores = (0..<n).map { _ in Double(rng.below(6)) }
        let labels = (0..<n).map { _ in rng.bernoulli(0.1) ? Float(rng.uniform() * 3) : Float(rng.below(4)) }
        let weights = (0..<n).map { _ in Float(1 + rng.below(3)) }
        let depths = [1, 3, 5, 10]
        let together = NDCG.means(scores, labels, offsets: offsets, depths: depths, weights: weights)
        for (d, k) in depths.enumerated() {
            // Each query by hand: the DCG of the score order over the DCG of the label order.
            var total = 0.0
            var weight = 0.0
            for q in 0..<offsets.count - 1 {
                let docs = Array(offsets[q]..<offsets[q + 1])
                let byScore = docs.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
                let byLabel = docs.map { labels[$0] }.sorted(by: >)
                let dcg = byScore.prefix(k).enumerated().reduce(0.0) {
                    $0 + (pow(2, Double(labels[$1.element])) - 1) / log2(Double($1.offset + 2))
                }
                let ideal = byLabel.prefix(k).enumerated().reduce(0.0) {
                    $0 + (pow(2, Double($1.element)) - 1) / log2(Double($1.offset + 2))
                }
                let w = Double(weights[docs[0]])
                total += w * (ideal > 0 ? dcg / ideal : 1)
                weight += w
            }
            #expect(abs(together[d] - total / weight) < 1e-12)
            #expect(together[d] == NDCG.mean(scores, labels, offsets: offsets, k: k, weights: weights))
        }
    }

    /// Queries of 12 documents whose relevance rises with feature 0 (with noise); feature 1 is noise.
    static func queries(_ count: Int, seed: UInt64) -> LabeledData {
        var rng = SeededRandom(seed: seed)
        var values: [Float] = []
        var labels: [Float] = []
        for _ in 0..<count {
            for _ in 0..<12 {
                let (a, b) = (rng.uniform(), rng.uniform())
                values += [Float(a), Float(b)]
                labels.append(Float(min(4, max(0, Int((a + 0.15 * rng.normal()) * 5)))))
            }
        }
        var data = LabeledData(features: DenseMatrix(rows: labels.count, columns: 2, values: values), labels: labels)
        data.groups = Array(repeating: 12, count: count)
        return data
    }

    @Test(arguments: ["lambdarank", "rank_xendcg"])
    func aRankerLearnsTheOrder(objective: String) throws {
        let train = Self.queries(150, seed: 1)
        let test = Self.queries(60, seed: 2)
        let result = try Booster.train(
            train, valid: test,
            params: Fixture.params([
                "objective=\(objective)", "num_iterations=30", "num_leaves=8", "min_data_in_leaf=10",
                "num_threads=2",
            ]))
        let scores = FlatPredictor(result.model).predict(test.features)
        let learned = NDCG.mean(scores, test.labels, offsets: test.groupOffsets!, k: 5)
        let byNoise = NDCG.mean(
            (0..<test.rows).map { Double(test.features.values[$0 * 2 + 1]) }, test.labels,
            offsets: test.groupOffsets!, k: 5)
        #expect(learned > 0.9 && learned > byNoise + 0.2, "NDCG@5 \(learned) against \(byNoise)")
        #expect(abs(result.history.last!.valid.first { $0.metric == .ndcg5 }!.value - learned) < 1e-12)
        // The same at one thread: queries are independent, the model does not depend on threads.
        let one = try Booster.train(
            train,
            params: Fixture.params([
                "objective=\(objective)", "num_iterations=30", "num_leaves=8", "min_data_in_leaf=10",
                "num_threads=1",
            ])
        ).model
        #expect(one.trees.map(\.leafValue) == result.model.trees.map(\.leafValue))
    }

    @Test func queryFilesAreReadAndChecked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-rank-\(UUID())").path
        try FileSystem.createDirectory(dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileSystem.writeAtomically("2 1:0.5\n0 1:0.1\n1 2:3\n", to: "\(dir)/r.svm")
        try FileSystem.writeAtomically("2\n1\n", to: "\(dir)/r.svm.query")
        let data = try DataLoader.load(path: "\(dir)/r.svm", format: .libsvm)
        #expect(data.groups == [2, 1] && data.groupOffsets == [0, 2, 3])
        try FileSystem.writeAtomically("2\n2\n", to: "\(dir)/r.svm.query")
        #expect { try DataLoader.load(path: "\(dir)/r.svm", format: .libsvm) } throws: {
            "\($0)".contains("add up to 4, not 3 rows")
        }
        var plain = data
        plain.groups = nil
        #expect { try Booster.train(plain, params: Fixture.params(["objective=lambdarank"])) } throws: {
            "\($0)".contains("needs its groups")
        }
    }

    /// A query column (LightGBM's group_column): runs of one id are queries, its text is no feature,
    /// and an id that comes back after another is an error.
    @Test func aQueryColumnGroupsRuns() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-rank-\(UUID())").path
        try FileSystem.createDirectory(dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let csv = "rel,session,x\n2,s-1,0.5\n0,s-1,0.1\n1,s-2,3\n0,\"s 3\",1\n0,\"s 3\",2\n"
        try FileSystem.writeAtomically(csv, to: "\(dir)/r.csv")
        let data = try DataLoader.load(path: "\(dir)/r.csv", format: .csv, labelColumn: "rel", groupColumn: "session")
        #expect(data.groups == [2, 1, 2] && data.features.featureNames == ["x"] && data.features.columns == 1)
        #expect(data.labels == [2, 0, 1, 0, 0])
        let byIndex = try DataLoader.load(path: "\(dir)/r.csv", format: .csv, labelColumn: "0", groupColumn: "1")
        #expect(byIndex.groups == [2, 1, 2])
        // Without a header, text ids in every row do not make the first row one.
        try FileSystem.writeAtomically("2,s-1,0.5\n0,s-1,0.1\n1,s-2,3\n", to: "\(dir)/plain.csv")
        let plain = try DataLoader.load(path: "\(dir)/plain.csv", format: .csv, labelColumn: "0", groupColumn: "1")
        #expect(plain.rows == 3 && plain.groups == [2, 1])
        #expect {
            try DataLoader.load(path: "\(dir)/r.csv", format: .csv, labelColumn: "rel", groupColumn: "0")
        } throws: { "\($0)".contains("also the label") }
        try FileSystem.writeAtomically(csv + "1,s-1,4\n", to: "\(dir)/r.csv")
        #expect {
            try DataLoader.load(path: "\(dir)/r.csv", format: .csv, labelColumn: "rel", groupColumn: "session")
        } throws: { "\($0)".contains("r.csv:7: query 's-1' comes back") }
        #expect {
            try DataLoader.load(path: "\(dir)/r.csv", format: .csv, labelColumn: "rel", groupColumn: "query")
        } throws: { "\($0)".contains("no query column named 'query'") }
    }
}

@Suite struct QueryOrderTests {
    @Test func rowsOfAQueryComeTogetherInTheirOwnOrder() {
        let ids: [String?] = ["b", "a", "b", nil, "a", "c", nil]
        let (rows, sizes) = QueryOrder.of([0, 1, 2, 3, 4, 5, 6]) { ids[$0] }
        #expect(rows == [0, 2, 1, 4, 3, 5, 6] && sizes == [2, 2, 1, 1, 1])
        let (subset, subsetSizes) = QueryOrder.of([4, 2, 1]) { ids[$0] }
        #expect(subset == [4, 1, 2] && subsetSizes == [2, 1])
    }
}
