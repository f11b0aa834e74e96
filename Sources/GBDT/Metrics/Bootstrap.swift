import Foundation
import FsmlCore

/// A confidence interval.
public struct Interval: Sendable, Equatable {
    public var lower: Double
    public var upper: Double

    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }

    public func contains(_ x: Double) -> Bool { lower <= x && x <= upper }
}

/// Percentile bootstrap intervals of a binary model's AUC and logloss: rows drawn with
/// replacement, each resample's metric computed from how often each row was drawn (one pass over
/// the rows sorted once), so that hundreds of resamples cost hundreds of linear passes.
public enum Bootstrap {
    /// Intervals at `level` (0.95: the 2.5th and 97.5th percentiles) over `resamples` resamples,
    /// seeded: the same inputs and seed give the same intervals.
    public static func intervals(
        predictions: [Double], labels: [Float], resamples: Int = 200, level: Double = 0.95, seed: UInt64
    ) -> (auc: Interval, logloss: Interval) {
        let n = predictions.count
        guard n > 0, resamples > 0 else {
            return (Interval(lower: .nan, upper: .nan), Interval(lower: .nan, upper: .nan))
        }
        let order = predictions.indices.sorted { predictions[$0] < predictions[$1] }
        let losses = predictions.indices.map { i in
            let q = min(max(predictions[i], 1e-15), 1 - 1e-15)
            return labels[i] > 0.5 ? -log(q) : -log(1 - q)
        }
        var rng = SeededRandom(seed: seed)
        var weights = [Int32](repeating: 0, count: n)
        var aucs: [Double] = []
        var loglosses: [Double] = []
        for _ in 0..<resamples {
            for i in weights.indices { weights[i] = 0 }
            for _ in 0..<n { weights[rng.below(n)] += 1 }
            let auc = weightedAUC(order: order, predictions: predictions, labels: labels, weights: weights)
            if auc.isFinite { aucs.append(auc) }
            var total = 0.0
            for i in 0..<n where weights[i] > 0 { total += Double(weights[i]) * losses[i] }
            loglosses.append(total / Double(n))
        }
        return (percentiles(aucs, level), percentiles(loglosses, level))
    }

    /// The AUC of rows counted `weights[i]` times each (ties count half), over `order`, the rows
    /// by increasing prediction. NaN when a class has no weight.
    public static func weightedAUC(order: [Int], predictions: [Double], labels: [Float], weights: [Int32]) -> Double {
        Metrics.weightedAUC(order: order, scores: predictions, labels: labels) { Double(weights[$0]) }
    }

    /// The (1 − level) / 2 and (1 + level) / 2 quantiles, by linear interpolation between order
    /// statistics (numpy's default).
    static func percentiles(_ values: [Double], _ level: Double) -> Interval {
        guard !values.isEmpty else { return Interval(lower: .nan, upper: .nan) }
        let sorted = values.sorted()
        func quantile(_ q: Double) -> Double {
            let position = q * Double(sorted.count - 1)
            let lo = Int(position.rounded(.down))
            let hi = min(lo + 1, sorted.count - 1)
            return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - Double(lo))
        }
        return Interval(lower: quantile((1 - level) / 2), upper: quantile((1 + level) / 2))
    }
}
