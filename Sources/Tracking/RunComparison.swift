/// Which way a metric is better, guessed from its name as a reviewer would read it.
public enum MetricDirection: Sendable, Equatable {
    case higher, lower, neutral

    public init(metric: String) {
        let m = metric.lowercased()
        if ["rows", "iteration", "base_rate", "trees", "positives", "count", "step"].contains(where: { m.contains($0) })
        {
            self = .neutral
        } else if ["loss", "brier", "ece", "rmse", "mae", "error", "seconds", "latency"].contains(where: {
            m.contains($0)
        }) {
            self = .lower
        } else {
            self = .higher
        }
    }

    /// Whether `a` beats `b`.
    public func better(_ a: Double, than b: Double) -> Bool {
        switch self {
        case .higher: a > b
        case .lower: a < b
        case .neutral: false
        }
    }
}

/// Runs side by side: the params that differ and every metric, the best value per metric marked.
public struct RunComparison: Sendable {
    public var runs: [RunRecord]
    public var differingParams: [String]
    public var metrics: [String]
    /// For each metric, the indices of the runs holding its best value.
    public var best: [String: Set<Int>]

    public init(runs: [RunRecord], metrics wanted: [String]? = nil) {
        self.runs = runs
        let paramKeys = Set(runs.flatMap(\.params.keys)).sorted()
        differingParams = paramKeys.filter { k in Set(runs.map { $0.params[k] ?? "" }).count > 1 }
        // Per-iteration curves are history, not results: `iter_` metrics stay out of the table.
        metrics =
            wanted
            ?? Set(runs.flatMap(\.metrics.keys)).filter { !$0.hasPrefix("iter_") }.sorted()
        var best: [String: Set<Int>] = [:]
        for m in metrics where Self.marksBest(m) {
            let direction = MetricDirection(metric: m)
            guard direction != .neutral, runs.count > 1 else { continue }
            let values = runs.enumerated().compactMap { i, r in r.metrics[m].flatMap { $0.isFinite ? (i, $0) : nil } }
            guard
                let top = values.map(\.1).reduce(
                    nil, { (acc: Double?, v) in acc.map { direction.better(v, than: $0) ? v : $0 } ?? v })
            else { continue }
            let holders = Set(values.filter { $0.1 == top }.map(\.0))
            // A mark on every run tells nothing.
            if holders.count < runs.count { best[m] = holders }
        }
        self.best = best
    }

    /// Whether the best value of metric `m` is marked: results on held-out data, not the fit on
    /// the training rows (a model that overfits wins those) nor timings (a cost, not a result).
    static func marksBest(_ m: String) -> Bool {
        !m.hasPrefix("train_") && !m.hasSuffix("_seconds")
    }

    /// The `n` best runs by `metric` (runs without it last), for `compare runs --top`.
    public static func top(_ runs: [RunRecord], metric: String, n: Int) -> [RunRecord] {
        let direction = MetricDirection(metric: metric)
        return Array(
            runs.sorted { a, b in
                switch (
                    a.metrics[metric].flatMap { $0.isFinite ? $0 : nil },
                    b.metrics[metric].flatMap { $0.isFinite ? $0 : nil }
                ) {
                case (nil, nil): return a.meta.startTime > b.meta.startTime
                case (nil, _): return false
                case (_, nil): return true
                case (let x?, let y?):
                    return x == y
                        ? a.meta.startTime > b.meta.startTime
                        : direction == .lower ? x < y : x > y
                }
            }.prefix(n))
    }
}
