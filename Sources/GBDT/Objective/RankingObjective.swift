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

    /// The gain of a relevance label: 2^label − 1.
    @inline(__always)
    static func gain(_ label: Float) -> Double { pow(2, Double(label)) - 1 }

    /// The discount of a 0-based rank: 1 / log2(2 + rank).
    @inline(__always)
    static func discount(_ rank: Int) -> Double { 1 / log2(Double(2 + rank)) }

    /// The DCG of the ideal order's first `k` documents.
    static func maxDCG(_ labels: some Collection<Float>, k: Int) -> Double {
        labels.sorted(by: >).prefix(k).enumerated().reduce(0) { $0 + gain($1.element) * discount($1.offset) }
    }

    /// LambdaMART's gradients and hessians for the documents `range` of one query.
    public func lambdarank(
        scores: UnsafePointer<Double>, labels: UnsafePointer<Float>, g: UnsafeMutablePointer<Float>,
        h: UnsafeMutablePointer<Float>, range: Range<Int>
    ) {
        let n = range.count
        for i in range {
            g[i] = 0
            h[i] = 0
        }
        guard n > 1 else { return }
        let ideal = Self.maxDCG(UnsafeBufferPointer(start: labels + range.lowerBound, count: n), k: truncationLevel)
        guard ideal > 0 else { return }
        let inverseMax = 1 / ideal
        // Documents by score, highest first; equal scores keep their order.
        let order = range.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        let spread = scores[order[0]] != scores[order[n - 1]]
        var lambdas = [Double](repeating: 0, count: n)
        var hessians = [Double](repeating: 0, count: n)
        // Each document's gain and each rank's discount once, not once per pair (the same values).
        let gains = (0..<n).map { Self.gain(labels[range.lowerBound + $0]) }
        let discounts = (0..<n).map { Self.discount($0) }
        var total = 0.0
        for i in 0..<min(n - 1, truncationLevel) {
            for j in i + 1..<n {
                let (a, b) = (order[i], order[j])
                if labels[a] == labels[b] { continue }
                let (high, low, highRank, lowRank) = labels[a] > labels[b] ? (a, b, i, j) : (b, a, j, i)
                let delta = scores[high] - scores[low]
                var change =
                    (gains[high - range.lowerBound] - gains[low - range.lowerBound])
                    * abs(discounts[highRank] - discounts[lowRank]) * inverseMax
                if normalize && spread { change /= 0.01 + abs(delta) }
                let p = 1 / (1 + exp(sigmoid * delta))
                let lambda = -sigmoid * p * change
                let hessian = sigmoid * sigmoid * p * (1 - p) * change
                lambdas[high - range.lowerBound] += lambda
                lambdas[low - range.lowerBound] -= lambda
                hessians[high - range.lowerBound] += hessian
                hessians[low - range.lowerBound] += hessian
                total -= 2 * lambda
            }
        }
        let factor = normalize && total > 0 ? log2(1 + total) / total : 1
        for k in 0..<n {
            g[range.lowerBound + k] = Float(lambdas[k] * factor)
            h[range.lowerBound + k] = Float(hessians[k] * factor)
        }
    }

    /// XE-NDCG's gradients and hessians for the documents `range` of one query: the cross
    /// entropy between the softmax of the scores and a distribution drawn around the gains,
    /// with `noise` one uniform draw in [0, 1) per document.
    public func xendcg(
        scores: UnsafePointer<Double>, labels: UnsafePointer<Float>, g: UnsafeMutablePointer<Float>,
        h: UnsafeMutablePointer<Float>, range: Range<Int>, noise: (Int) -> Double
    ) {
        let n = range.count
        guard n > 1 else {
            for i in range {
                g[i] = 0
                h[i] = 0
            }
            return
        }
        let top = range.map { scores[$0] }.max()!
        let exps = range.map { exp(scores[$0] - top) }
        let sum = exps.reduce(0, +)
        let rho = exps.map { $0 / sum }
        var params = range.map { pow(2, Double(labels[$0])) - noise($0) }
        let inverse = 1 / max(1e-15, params.reduce(0, +))
        var first = [Double](repeating: 0, count: n)
        var sumFirst = 0.0
        for k in 0..<n {
            first[k] = -params[k] * inverse + rho[k]
            params[k] = first[k] / (1 - rho[k])
            sumFirst += params[k]
        }
        var second = [Double](repeating: 0, count: n)
        var sumSecond = 0.0
        for k in 0..<n {
            second[k] = rho[k] * (sumFirst - params[k])
            params[k] = second[k] / (1 - rho[k])
            sumSecond += params[k]
        }
        for k in 0..<n {
            g[range.lowerBound + k] = Float(first[k] + second[k] + rho[k] * (sumSecond - params[k]))
            h[range.lowerBound + k] = Float(rho[k] * (1 - rho[k]))
        }
    }
}

/// NDCG@k over queries, LightGBM's way: a query whose labels are all 0 counts as 1.
public enum NDCG {
    public static func mean(
        _ scores: [Double], _ labels: [Float], offsets: [Int], k: Int, weights: [Float]? = nil
    )
        -> Double
    {
        var total = 0.0
        var weight = 0.0
        for q in 0..<offsets.count - 1 {
            let range = offsets[q]..<offsets[q + 1]
            // A query's weight is its first document's, as LightGBM reads query weights.
            let w = weights.map { Double($0[range.lowerBound]) } ?? 1
            total += w * of(scores, labels, range, k: k)
            weight += w
        }
        return weight > 0 ? total / weight : .nan
    }

    /// NDCG@k of one query: ties in score broken by position in the file.
    public static func of(_ scores: [Double], _ labels: [Float], _ range: Range<Int>, k: Int) -> Double {
        let ideal = RankingObjective.maxDCG(labels[range], k: k)
        guard ideal > 0 else { return 1 }
        let order = range.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        let dcg = order.prefix(k).enumerated().reduce(0.0) {
            $0 + RankingObjective.gain(labels[$1.element]) * RankingObjective.discount($1.offset)
        }
        return dcg / ideal
    }
}
