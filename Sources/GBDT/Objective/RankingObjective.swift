import Foundation
import FsmlCore

/// Gradients of the learning-to-rank objectives, one query at a time: LambdaMART for NDCG (as
/// LightGBM's lambdarank computes it) and XE-NDCG (Bruch et al., LightGBM's rank_xendcg).
public struct RankingObjective: Sendable {
    /// Pairs are formed only with a document ranked above this position (LightGBM's
    /// lambdarank_truncation_level).
    public var truncationLevel = 30
    /// Divide each pair's NDCG change by its score distance, and scale a query's lambdas by
    /// log2(1 + Σ) / Σ (LightGBM's lambdarank_norm).
    public var normalize = true
    public var sigmoid = 1.0

    public init() {}

    /// The gain of a relevance label: 2^label − 1 (a shift for the small whole labels that
    /// relevance grades are, the same value exactly).
    @inline(__always)
    static func gain(_ label: Float) -> Double {
        // Whole labels tested by conversion: rounding calls into the C library on baseline x86-64.
        if label >= 0 && label < 31, Float(Int(label)) == label { return Double((1 << Int(label)) - 1) }
        return pow(2, Double(label)) - 1
    }

    /// The discount of a 0-based rank: 1 / log2(2 + rank).
    @inline(__always)
    static func discount(_ rank: Int) -> Double {
        rank < discounts.count ? discounts[rank] : 1 / log2(Double(2 + rank))
    }

    /// The discounts of the first ranks, where NDCG's depths lie.
    private static let discounts = (0..<64).map { 1 / log2(Double(2 + $0)) }

    /// The DCG of the ideal order's first `k` documents.
    static func maxDCG(_ labels: some Collection<Float>, k: Int) -> Double {
        labels.sorted(by: >).prefix(k).enumerated().reduce(0) { $0 + gain($1.element) * discount($1.offset) }
    }

    /// LambdaMART's gradients and hessians for the documents `range` of one query.
    public func lambdarank(
        scores: UnsafePointer<Double>, labels: UnsafePointer<Float>, g: UnsafeMutablePointer<Float>,
        h: UnsafeMutablePointer<Float>, range: Range<Int>
    ) {
        let first = range.lowerBound
        let table = RankingQueries(
            labels: Array(UnsafeBufferPointer(start: labels + first, count: range.count)), offsets: [0, range.count],
            truncationLevel: truncationLevel)
        lambdarank(scores: scores + first, labels: labels + first, g: g + first, h: h + first, query: 0, table: table)
    }

    /// `lambdarank` for query `q` of `table`, whose gains, ideal DCG and discounts were computed
    /// once for the whole training (they depend on the labels alone) and whose scratch holds the
    /// query's order and sums: nothing is allocated per query and round.
    public func lambdarank(
        scores: UnsafePointer<Double>, labels: UnsafePointer<Float>, g: UnsafeMutablePointer<Float>,
        h: UnsafeMutablePointer<Float>, query q: Int, table: RankingQueries
    ) {
        let start = table.offsets[q]
        let n = table.offsets[q + 1] - start
        for i in start..<start + n {
            g[i] = 0
            h[i] = 0
        }
        let inverseMax = table.inverseMaxDCG[q]
        guard n > 1, inverseMax > 0 else { return }
        let gains = table.gains + start
        let discounts = table.discounts
        let lambdas = table.lane(0) + start
        let hessians = table.lane(1) + start
        // Documents by score, highest first; equal scores keep their order (positions within the
        // query, so ties fall as they did when the order was sorted from the rows).
        var order = UnsafeMutableBufferPointer(start: table.order + start, count: n)
        for k in 0..<n {
            order[k] = Int32(k)
            lambdas[k] = 0
            hessians[k] = 0
        }
        let s = scores + start
        let y = labels + start
        order.sort { a, b in
            let (u, v) = (s[Int(a)], s[Int(b)])
            return u > v || (u == v && a < b)
        }
        let spread = s[Int(order[0])] != s[Int(order[n - 1])]
        var total = 0.0
        for i in 0..<min(n - 1, truncationLevel) {
            for j in i + 1..<n {
                let (a, b) = (Int(order[i]), Int(order[j]))
                if y[a] == y[b] { continue }
                let (high, low, highRank, lowRank) = y[a] > y[b] ? (a, b, i, j) : (b, a, j, i)
                let delta = s[high] - s[low]
                var change = (gains[high] - gains[low]) * abs(discounts[highRank] - discounts[lowRank]) * inverseMax
                if normalize && spread { change /= 0.01 + abs(delta) }
                let p = 1 / (1 + exp(sigmoid * delta))
                let lambda = -sigmoid * p * change
                let hessian = sigmoid * sigmoid * p * (1 - p) * change
                lambdas[high] += lambda
                lambdas[low] -= lambda
                hessians[high] += hessian
                hessians[low] += hessian
                total -= 2 * lambda
            }
        }
        let factor = normalize && total > 0 ? log2(1 + total) / total : 1
        for k in 0..<n {
            g[start + k] = Float(lambdas[k] * factor)
            h[start + k] = Float(hessians[k] * factor)
        }
    }

    /// XE-NDCG's gradients and hessians for the documents `range` of one query: the cross
    /// entropy between the softmax of the scores and a distribution drawn around the gains,
    /// with `noise` one uniform draw in [0, 1) per document.
    public func xendcg(
        scores: UnsafePointer<Double>, labels: UnsafePointer<Float>, g: UnsafeMutablePointer<Float>,
        h: UnsafeMutablePointer<Float>, range: Range<Int>, noise: (Int) -> Double
    ) {
        let first = range.lowerBound
        let table = RankingQueries(
            labels: Array(UnsafeBufferPointer(start: labels + first, count: range.count)), offsets: [0, range.count],
            truncationLevel: truncationLevel)
        xendcg(scores: scores + first, g: g + first, h: h + first, query: 0, table: table) { noise($0 + first) }
    }

    /// `xendcg` for query `q` of `table`, in its scratch; `noise(i)` for the query's i-th document
    /// (counted from 0).
    public func xendcg(
        scores: UnsafePointer<Double>, g: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, query q: Int,
        table: RankingQueries, noise: (Int) -> Double
    ) {
        let start = table.offsets[q]
        let n = table.offsets[q + 1] - start
        guard n > 1 else {
            for i in start..<start + n {
                g[i] = 0
                h[i] = 0
            }
            return
        }
        let s = scores + start
        let gains = table.gains + start
        let (rho, params, first, second) = (
            table.lane(0) + start, table.lane(1) + start, table.lane(2) + start, table.lane(3) + start
        )
        var top = s[0]
        for k in 1..<n { top = max(top, s[k]) }
        var sum = 0.0
        for k in 0..<n {
            rho[k] = exp(s[k] - top)
            sum += rho[k]
        }
        var total = 0.0
        for k in 0..<n {
            rho[k] /= sum
            params[k] = gains[k] + 1 - noise(k)
            total += params[k]
        }
        let inverse = 1 / max(1e-15, total)
        var sumFirst = 0.0
        for k in 0..<n {
            first[k] = -params[k] * inverse + rho[k]
            params[k] = first[k] / (1 - rho[k])
            sumFirst += params[k]
        }
        var sumSecond = 0.0
        for k in 0..<n {
            second[k] = rho[k] * (sumFirst - params[k])
            params[k] = second[k] / (1 - rho[k])
            sumSecond += params[k]
        }
        for k in 0..<n {
            g[start + k] = Float(first[k] + second[k] + rho[k] * (sumSecond - params[k]))
            h[start + k] = Float(rho[k] * (1 - rho[k]))
        }
    }
}

/// What the ranking objectives need of each query that depends on the labels alone, computed
/// once for a training run: each document's gain, each query's inverse ideal DCG at the truncation
/// level, the discount of every rank; and scratch the size of the data for each query's order and
/// sums (queries are disjoint ranges, so threads working on different queries share it safely).
public final class RankingQueries: @unchecked Sendable {
    public let offsets: [Int]
    let gains: UnsafeMutablePointer<Double>
    let inverseMaxDCG: [Double]
    let discounts: UnsafeMutablePointer<Double>
    let order: UnsafeMutablePointer<Int32>
    /// Four lanes of one Double a document, for a query's sums.
    private let scratch: UnsafeMutablePointer<Double>
    private let rows: Int
    private let ranks: Int

    public init(labels: [Float], offsets: [Int], truncationLevel: Int) {
        self.offsets = offsets
        rows = offsets.last ?? 0
        ranks = zip(offsets, offsets.dropFirst()).map { $1 - $0 }.max() ?? 0
        gains = .allocate(capacity: max(rows, 1))
        for i in 0..<rows { gains[i] = RankingObjective.gain(labels[i]) }
        discounts = .allocate(capacity: max(ranks, 1))
        for r in 0..<ranks { discounts[r] = RankingObjective.discount(r) }
        inverseMaxDCG = zip(offsets, offsets.dropFirst()).map { start, end in
            let ideal = RankingObjective.maxDCG(labels[start..<end], k: truncationLevel)
            return ideal > 0 ? 1 / ideal : 0
        }
        order = .allocate(capacity: max(rows, 1))
        scratch = .allocate(capacity: 4 * max(rows, 1))
    }

    deinit {
        gains.deallocate()
        discounts.deallocate()
        order.deallocate()
        scratch.deallocate()
    }

    public var count: Int { offsets.count - 1 }

    /// Scratch lane i (0 ..< 4), indexed by row.
    @inline(__always)
    func lane(_ i: Int) -> UnsafeMutablePointer<Double> { scratch + i * max(rows, 1) }
}

/// NDCG@k over queries, LightGBM's way: a query whose labels are all 0 counts as 1.
public enum NDCG {
    public static func mean(
        _ scores: [Double], _ labels: [Float], offsets: [Int], k: Int, weights: [Float]? = nil
    )
        -> Double
    {
        means(scores, labels, offsets: offsets, depths: [k], weights: weights)[0]
    }

    /// NDCG at several depths at once: each query's documents are sorted once, by score and by
    /// label, for all of them (the booster measures every depth every round).
    public static func means(
        _ scores: [Double], _ labels: [Float], offsets: [Int], depths: [Int], weights: [Float]? = nil
    ) -> [Double] {
        var totals = [Double](repeating: 0, count: depths.count)
        var weight = 0.0
        var order: [Int] = []
        var ideal: [Float] = []
        var best: [Double] = []
        var dcg: [Double] = []
        let deepest = depths.max() ?? 0
        for q in 0..<offsets.count - 1 {
            let range = offsets[q]..<offsets[q + 1]
            // A query's weight is its first document's, as LightGBM reads query weights.
            let w = weights.map { Double($0[range.lowerBound]) } ?? 1
            weight += w
            order.removeAll(keepingCapacity: true)
            order.append(contentsOf: range)
            order.sort { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            ideal.removeAll(keepingCapacity: true)
            ideal.append(contentsOf: labels[range])
            ideal.sort(by: >)
            // The DCGs of the first r documents, for r up to the deepest depth, in one walk.
            best.removeAll(keepingCapacity: true)
            dcg.removeAll(keepingCapacity: true)
            best.append(0)
            dcg.append(0)
            for r in 0..<min(deepest, range.count) {
                let discount = RankingObjective.discount(r)
                best.append(best[r] + RankingObjective.gain(ideal[r]) * discount)
                dcg.append(dcg[r] + RankingObjective.gain(labels[order[r]]) * discount)
            }
            for (d, k) in depths.enumerated() {
                let r = min(k, range.count)
                totals[d] += w * (best[r] > 0 ? dcg[r] / best[r] : 1)
            }
        }
        return totals.map { weight > 0 ? $0 / weight : .nan }
    }

    /// NDCG@k of one query: ties in score broken by position in the file.
    public static func of(_ scores: [Double], _ labels: [Float], _ range: Range<Int>, k: Int) -> Double {
        means(scores, labels, offsets: [range.lowerBound, range.upperBound], depths: [k])[0]
    }
}
