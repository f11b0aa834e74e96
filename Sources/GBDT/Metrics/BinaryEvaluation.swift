import Foundation
import FsmlCore

/// A point on a curve (ROC: false/true positive rate; PR: recall/precision).
public struct CurvePoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// One bin of a reliability (calibration) curve: predictions in [lower, upper).
public struct ReliabilityBin: Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public var count: Int
    public var meanPredicted: Double
    public var observedRate: Double
}

/// Precision and lift among the k highest scores.
public struct TopK: Sendable, Equatable {
    public var label: String
    public var k: Int
    public var precision: Double
    public var lift: Double
}

/// The full evaluation of a binary classifier's probabilities: what a data scientist checks before
/// promoting a model.
public struct BinaryEvaluation: Sendable {
    public var rows: Int
    public var positives: Int
    public var auc: Double
    public var prAUC: Double
    public var logloss: Double
    public var brier: Double
    /// Expected calibration error: the row-weighted mean |observed rate − mean prediction| over bins.
    public var ece: Double
    public var reliability: [ReliabilityBin]
    public var topK: [TopK]
    public var roc: [CurvePoint]
    public var pr: [CurvePoint]

    public var baseRate: Double { rows > 0 ? Double(positives) / Double(rows) : .nan }

    /// Named values, as a run logs them.
    public var metrics: [(String, Double)] {
        var m: [(String, Double)] = [
            ("auc", auc), ("pr_auc", prAUC), ("logloss", logloss), ("brier", brier), ("ece", ece),
            ("base_rate", baseRate), ("rows", Double(rows)),
        ]
        for t in topK { m += [("precision_at_\(t.label)", t.precision), ("lift_at_\(t.label)", t.lift)] }
        return m
    }

    public static func evaluate(
        predictions p: [Double], labels: [Float], bins: Int = 10, curvePoints: Int = 200
    ) -> BinaryEvaluation {
        precondition(p.count == labels.count)
        let n = p.count
        let y = labels.map { $0 > 0.5 }
        let positives = y.lazy.filter { $0 }.count
        let ranking = Metrics.rankingMetrics(p, labels)
        var brier = 0.0
        for i in 0..<n {
            let d = p[i] - (y[i] ? 1 : 0)
            brier += d * d
        }
        brier = n > 0 ? brier / Double(n) : .nan

        // Reliability: equal-width bins over [0, 1].
        var count = [Int](repeating: 0, count: bins)
        var sumP = [Double](repeating: 0, count: bins)
        var sumY = [Double](repeating: 0, count: bins)
        for i in 0..<n {
            let b = min(bins - 1, max(0, Int(p[i] * Double(bins))))
            count[b] += 1
            sumP[b] += p[i]
            sumY[b] += y[i] ? 1 : 0
        }
        var reliability: [ReliabilityBin] = []
        var ece = 0.0
        for b in 0..<bins where count[b] > 0 {
            let c = Double(count[b])
            reliability.append(
                ReliabilityBin(
                    lower: Double(b) / Double(bins), upper: Double(b + 1) / Double(bins), count: count[b],
                    meanPredicted: sumP[b] / c, observedRate: sumY[b] / c))
            ece += c / Double(n) * abs(sumY[b] / c - sumP[b] / c)
        }

        // Scores descending; ties broken by index so results are stable.
        let order = (0..<n).sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }
        let baseRate = n > 0 ? Double(positives) / Double(n) : .nan
        var topK: [TopK] = []
        var ks: [(String, Int)] = [100, 1000].filter { $0 <= n }.map { ("\($0)", $0) }
        for (label, fraction) in [("1pct", 0.01), ("5pct", 0.05)] where Int(Double(n) * fraction) >= 1 {
            ks.append((label, Int(Double(n) * fraction)))
        }
        var prefixPositives = [Int](repeating: 0, count: n + 1)
        for (r, i) in order.enumerated() { prefixPositives[r + 1] = prefixPositives[r] + (y[i] ? 1 : 0) }
        for (label, k) in ks {
            let precision = Double(prefixPositives[k]) / Double(k)
            topK.append(TopK(label: label, k: k, precision: precision, lift: precision / baseRate))
        }

        // ROC and PR curves at distinct thresholds, thinned to about `curvePoints`.
        var roc = [CurvePoint(x: 0, y: 0)]
        var pr: [CurvePoint] = []
        let negatives = n - positives
        var r = 0
        let stride = max(1, n / curvePoints)
        var lastEmitted = 0
        while r < n {
            var end = r
            while end + 1 < n && p[order[end + 1]] == p[order[r]] { end += 1 }
            r = end + 1
            if r - lastEmitted >= stride || r == n {
                lastEmitted = r
                let tp = Double(prefixPositives[r])
                let fp = Double(r) - tp
                roc.append(
                    CurvePoint(
                        x: negatives > 0 ? fp / Double(negatives) : 0, y: positives > 0 ? tp / Double(positives) : 0))
                if positives > 0 { pr.append(CurvePoint(x: tp / Double(positives), y: tp / Double(r))) }
            }
        }
        return BinaryEvaluation(
            rows: n, positives: positives, auc: ranking.auc, prAUC: ranking.ap, logloss: Metrics.logloss(p, labels),
            brier: brier, ece: ece, reliability: reliability, topK: topK, roc: roc, pr: pr)
    }
}

/// Metrics within each value of a segment column (device, country): where a model is weak, with
/// bootstrap intervals that tell a weak segment from a small one.
public struct SegmentResult: Sendable, Equatable {
    public var value: String
    public var rows: Int
    public var positives: Int
    public var auc: Double
    public var logloss: Double
    /// 95 % percentile bootstrap intervals.
    public var aucInterval: Interval?
    public var loglossInterval: Interval?
}

public enum SegmentEvaluation {
    /// The `top` most frequent values with at least `minRows` rows; a null value is "(missing)".
    /// With `resamples` > 0, each segment's metrics get bootstrap intervals, seeded by the
    /// segment's value so that reruns agree.
    public static func evaluate(
        predictions: [Double], labels: [Float], segments: [String?], top: Int = 10, minRows: Int = 50,
        resamples: Int = 200
    ) -> [SegmentResult] {
        var rowsOf: [String: [Int]] = [:]
        for (i, s) in segments.enumerated() { rowsOf[s ?? "(missing)", default: []].append(i) }
        let chosen = rowsOf.filter { $0.value.count >= minRows }.sorted {
            $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key
        }.prefix(top)
        return chosen.map { value, rows in
            let p = rows.map { predictions[$0] }
            let l = rows.map { labels[$0] }
            let intervals =
                resamples > 0
                ? Bootstrap.intervals(predictions: p, labels: l, resamples: resamples, seed: StableHash.hash(value))
                : nil
            return SegmentResult(
                value: value, rows: rows.count, positives: l.lazy.filter { $0 > 0.5 }.count,
                auc: Metrics.auc(p, l), logloss: Metrics.logloss(p, l), aucInterval: intervals?.auc,
                loglossInterval: intervals?.logloss)
        }
    }
}
