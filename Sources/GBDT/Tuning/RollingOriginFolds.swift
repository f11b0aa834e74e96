import FsmlCore

/// Rolling-origin cross-validation by time (what sklearn's `TimeSeriesSplit` does over row counts,
/// here over example times): the rows, in time order, are cut into K + 1 blocks of about equal size,
/// never between two rows of the same time; fold k validates on block k (k = 1...K) and trains on
/// every row before it whose time is earlier than the block's start minus `gap`. A cut that would
/// split a time moves past it (and past the cut before), so blocks can differ in size. The gap is the
/// label's horizon: an example at t is labelled by what happens until t + horizon, so a training
/// example closer than that to the validation start would have seen validation-time outcomes.
/// No fold ever trains on a row at or after its validation start, and none is random.
public struct RollingOriginFolds: Sendable, Equatable {
    public struct Fold: Sendable, Equatable {
        public var train: [Int]
        public var valid: [Int]
        /// Training rows are before `trainEnd` (= validStart − gap).
        public var trainEnd: Micros
        public var validStart: Micros
        /// Validation rows are before `validEnd` (exclusive; the last fold's is past the last row).
        public var validEnd: Micros
    }

    public var folds: [Fold]

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public init(times: [Micros], folds k: Int, gap: Micros) throws(Failure) {
        guard k >= 1 else { throw Failure(description: "--cv must be at least 1") }
        let order = times.indices.sorted { (times[$0], $0) < (times[$1], $1) }
        let n = order.count
        // Block boundaries (as positions in time order), moved forward past ties.
        var cuts: [Int] = []
        for b in 1...k {
            var c = min(n, max(n * b / (k + 1), (cuts.last ?? 0) + 1))
            while c > 0 && c < n && times[order[c]] == times[order[c - 1]] { c += 1 }
            cuts.append(c)
        }
        cuts.append(n)
        var folds: [Fold] = []
        for f in 0..<k {
            let (lo, hi) = (cuts[f], cuts[f + 1])
            guard lo < hi else {
                throw Failure(description: "fold \(f + 1) of \(k) has no validation rows (\(n) rows; use fewer folds)")
            }
            let validStart = times[order[lo]]
            let validEnd = hi < n ? times[order[hi]] : times[order[n - 1]] + 1
            let trainEnd = validStart - gap
            let train = order[..<lo].filter { times[$0] < trainEnd }.sorted()
            guard !train.isEmpty else {
                throw Failure(
                    description:
                        "fold \(f + 1) of \(k) has no training rows before \(Timestamp.format(trainEnd)) (the gap is \(DurationText.format(gap))); use fewer folds or a smaller --gap"
                )
            }
            folds.append(
                Fold(
                    train: train, valid: Array(order[lo..<hi]).sorted(), trainEnd: trainEnd, validStart: validStart,
                    validEnd: validEnd))
        }
        self.folds = folds
    }
}
