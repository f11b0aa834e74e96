import FsmlCore
import GBDT

/// What a tuning study did, as its parent run records it (`study.json`) and its report shows.
public struct StudySummary: Sendable {
    public struct FoldInfo: Sendable {
        public var trainRows: Int
        public var validRows: Int
        public var trainEnd: Micros
        public var validStart: Micros
        public var validEnd: Micros

        public init(trainRows: Int, validRows: Int, trainEnd: Micros, validStart: Micros, validEnd: Micros) {
            self.trainRows = trainRows
            self.validRows = validRows
            self.trainEnd = trainEnd
            self.validStart = validStart
            self.validEnd = validEnd
        }
    }

    public var name: String
    /// The objective's name, `valid_auc`.
    public var metric: String
    public var higherIsBetter: Bool
    /// Sampler, pruner, budget, folds, seed...: what reproduces the study, in order.
    public var settings: [(String, String)]
    public var space: SearchSpace
    public var folds: [FoldInfo]
    public var trials: [TrialResult]
    /// Each trial's child run.
    public var runIDs: [Int: String]
    /// The base parameters on the same folds (nil when not measured).
    public var baseline: Double?
    public var seconds: Double
    /// The dataset's columns the trials read, for peers that repeat the study on the same folds.
    public var featureNames: [String] = []
    public var labelColumn = "label"
    public var timeColumn = ""

    public init(
        name: String, metric: String, higherIsBetter: Bool, settings: [(String, String)], space: SearchSpace,
        folds: [FoldInfo], trials: [TrialResult], runIDs: [Int: String], baseline: Double?, seconds: Double
    ) {
        self.name = name
        self.metric = metric
        self.higherIsBetter = higherIsBetter
        self.settings = settings
        self.space = space
        self.folds = folds
        self.trials = trials
        self.runIDs = runIDs
        self.baseline = baseline
        self.seconds = seconds
    }

    public var best: TrialResult? { Study.best(trials, higherIsBetter: higherIsBetter) }
    public var pruned: Int { trials.filter(\.pruned).count }

    /// The best value after each trial (complete trials only; NaN before the first).
    public var bestSoFar: [Double] {
        var best = Double.nan
        return trials.map { t in
            if !t.pruned && !t.value.isNaN && (best.isNaN || (higherIsBetter ? t.value > best : t.value < best)) {
                best = t.value
            }
            return best
        }
    }

    /// How much of the spread of the complete trials' values each parameter explains on its own:
    /// the variance of the mean value per bin of the parameter (quartiles of the values tried, or
    /// each choice) over the variance of the values, a first-order sensitivity index, shares
    /// summing to 1. Empty with fewer than 4 complete trials.
    public var importance: [(name: String, share: Double)] {
        let complete = trials.filter { !$0.pruned && !$0.value.isNaN }
        guard complete.count >= 4 else { return [] }
        let ys = complete.map(\.value)
        let mean = ys.reduce(0, +) / Double(ys.count)
        let total = ys.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        guard total > 0 else { return [] }
        var raw: [(String, Double)] = []
        for (p, parameter) in space.parameters.enumerated() {
            let bins = slice(p, of: complete)
            let explained = bins.reduce(0.0) { $0 + Double($1.count) * ($1.mean - mean) * ($1.mean - mean) }
            raw.append((parameter.name, explained / total))
        }
        let sum = raw.reduce(0) { $0 + $1.1 }
        return raw.map { ($0.0, sum > 0 ? $0.1 / sum : 0) }.sorted { $0.1 > $1.1 }
    }

    /// Mean value per bin of parameter `p`: quartile bins of the values tried (each choice for a choice).
    public func slice(_ p: Int, of complete: [TrialResult]) -> [(label: String, x: Double, mean: Double, count: Int)] {
        let d = space.parameters[p].distribution
        var groups: [Int: [(Double, Double)]] = [:]
        var labels: [Int: String] = [:]
        if case .choice(let values) = d {
            for t in complete { groups[Int(t.values[p]), default: []].append((t.values[p], t.value)) }
            for k in groups.keys { labels[k] = values[k] }
        } else {
            let xs = complete.map { $0.values[p] }.sorted()
            let cuts = (1..<4).map { xs[xs.count * $0 / 4] }
            for t in complete {
                let b = cuts.filter { t.values[p] >= $0 }.count
                groups[b, default: []].append((t.values[p], t.value))
            }
        }
        return groups.keys.sorted().map { k in
            let g = groups[k]!
            let x = g.map(\.0).reduce(0, +) / Double(g.count)
            return (labels[k] ?? d.valueText(x), x, g.map(\.1).reduce(0, +) / Double(g.count), g.count)
        }
    }

    public func json() -> JSONValue {
        func params(_ t: TrialResult) -> JSONValue { .object(t.assignments.map { ($0.name, .string($0.value)) }) }
        func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
        let trialValues: [JSONValue] = trials.map { t in
            .object([
                ("number", .int(t.number)), ("state", .string(t.pruned ? "PRUNED" : "COMPLETE")),
                ("value", number(t.value)), ("params", params(t)),
                ("fold_values", .array(t.foldValues.map(number))),
                ("fold_best_iterations", .array(t.foldBestIterations.map { .int($0) })),
                (
                    "rungs",
                    .array(t.rungValues.map { .object([("rounds", .int($0.rounds)), ("value", number($0.value))]) })
                ),
                ("seconds", .number(t.seconds)), ("run_id", runIDs[t.number].map { .string($0) } ?? .null),
            ])
        }
        return .object([
            ("study", .string(name)), ("metric", .string(metric)),
            ("direction", .string(higherIsBetter ? "maximize" : "minimize")),
            ("settings", .object(settings.map { ($0.0, .string($0.1)) })),
            (
                "columns",
                .object([
                    ("features", .array(featureNames.map { .string($0) })), ("label", .string(labelColumn)),
                    ("time", .string(timeColumn)),
                ])
            ),
            ("space", .object(space.parameters.map { ($0.name, .string($0.distribution.description)) })),
            (
                "folds",
                .array(
                    folds.map {
                        .object([
                            ("train_rows", .int($0.trainRows)), ("valid_rows", .int($0.validRows)),
                            ("train_end", .string(Timestamp.format($0.trainEnd))),
                            ("valid_start", .string(Timestamp.format($0.validStart))),
                            ("valid_end", .string(Timestamp.format($0.validEnd))),
                        ])
                    })
            ),
            ("baseline_value", baseline.map(number) ?? .null),
            (
                "best",
                best.map {
                    .object([
                        ("number", .int($0.number)), ("value", number($0.value)), ("params", params($0)),
                        ("run_id", runIDs[$0.number].map { .string($0) } ?? .null),
                    ])
                } ?? .null
            ),
            ("trials_complete", .int(trials.count - pruned)), ("trials_pruned", .int(pruned)),
            ("seconds", .number(seconds)), ("importance", .object(importance.map { ($0.name, .number($0.share)) })),
            ("trials", .array(trialValues)),
        ])
    }
}
