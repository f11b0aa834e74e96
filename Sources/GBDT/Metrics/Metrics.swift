import Foundation
import FsmlCore

/// Evaluation metrics. For all of them smaller is better except AUC, PR-AUC and accuracy.
public enum MetricKind: String, Sendable, Equatable, CaseIterable {
    case auc, logloss, rmse
    case prAUC = "pr_auc"
    case accuracy
    case mae, huber, quantile, poisson
    case ndcg1 = "ndcg@1"
    case ndcg3 = "ndcg@3"
    case ndcg5 = "ndcg@5"
    case ndcg10 = "ndcg@10"
    /// Multiclass: the mean −log probability of the true class; the share of rows whose most
    /// probable class is not the label.
    case multiLogloss = "multi_logloss"
    case multiError = "multi_error"

    public init?(name: String) {
        switch name.lowercased() {
        case "auc": self = .auc
        case "logloss", "binary_logloss", "log_loss", "binary": self = .logloss
        case "rmse", "l2_root", "root_mean_squared_error": self = .rmse
        case "pr_auc", "average_precision", "aucpr", "map": self = .prAUC
        case "accuracy", "acc": self = .accuracy
        case "mae", "l1", "mean_absolute_error", "regression_l1": self = .mae
        case "huber": self = .huber
        case "quantile": self = .quantile
        case "poisson", "poisson-nloglik": self = .poisson
        case "ndcg@1": self = .ndcg1
        case "ndcg@3": self = .ndcg3
        case "ndcg@5", "ndcg": self = .ndcg5
        case "ndcg@10": self = .ndcg10
        case "multi_logloss", "mlogloss", "multiclass", "softmax": self = .multiLogloss
        case "multi_error", "merror": self = .multiError
        default: return nil
        }
    }

    public var higherIsBetter: Bool { self == .auc || self == .prAUC || self == .accuracy || ndcgDepth != nil }

    /// k of NDCG@k.
    public var ndcgDepth: Int? {
        switch self {
        case .ndcg1: 1
        case .ndcg3: 3
        case .ndcg5: 5
        case .ndcg10: 10
        default: nil
        }
    }

    /// The metric of predictions (probabilities for binary metrics, expected counts for Poisson)
    /// against labels, each row counted by its weight when there are weights. `alpha` is the
    /// Huber threshold or the quantile.
    /// `groups` are query offsets (LabeledData.groupOffsets), which NDCG needs. Multiclass metrics
    /// take K probabilities a row, row after row.
    public func evaluate(
        predictions: [Double], labels: [Float], weights: [Float]? = nil, alpha: Double = 0.9, groups: [Int]? = nil
    ) -> Double {
        if self == .multiLogloss || self == .multiError {
            return Metrics.multiclass(self, predictions, labels, weights)
        }
        if let k = ndcgDepth {
            guard let groups else { return .nan }
            return NDCG.mean(predictions, labels, offsets: groups, k: k, weights: weights)
        }
        switch self {
        case .auc, .prAUC:
            let r = Metrics.ranking(predictions, labels, weights: weights)
            return self == .auc ? r.auc : r.ap
        case .rmse:
            return Metrics.mean(predictions, labels, weights) { p, y in (p - y) * (p - y) }.squareRoot()
        default:
            return Metrics.mean(predictions, labels, weights) { p, y in rowLoss(p, y, alpha: alpha) }
        }
    }

    /// The term a row adds to a metric that is a mean over rows.
    @inline(__always)
    func rowLoss(_ p: Double, _ y: Double, alpha: Double) -> Double {
        let r = p - y
        switch self {
        case .logloss:
            let q = min(max(p, 1e-15), 1 - 1e-15)
            return y > 0.5 ? -log(q) : -log(1 - q)
        case .accuracy: return (p >= 0.5) == (y > 0.5) ? 1 : 0
        case .mae: return abs(r)
        // LightGBM's huber metric: ½r² within alpha, alpha(|r| − ½alpha) beyond.
        case .huber: return abs(r) <= alpha ? 0.5 * r * r : alpha * (abs(r) - 0.5 * alpha)
        // The pinball loss: alpha under the label, 1 − alpha over it.
        case .quantile: return r < 0 ? alpha * -r : (1 - alpha) * r
        // LightGBM's poisson metric: the negative log-likelihood up to a constant, p − y log p.
        case .poisson:
            let q = max(p, 1e-10)
            return q - y * log(q)
        case .rmse: return r * r
        case .auc, .prAUC, .ndcg1, .ndcg3, .ndcg5, .ndcg10, .multiLogloss, .multiError: return .nan
        }
    }
}

public enum Metrics {
    /// Several metrics at once: AUC and PR-AUC share one sort. With a team of two or more, the
    /// sorts of positives and of negatives go on two threads (the booster measures every iteration,
    /// between parallel steps).
    public static func evaluate(
        _ metrics: [MetricKind], predictions: [Double], labels: [Float], weights: [Float]? = nil,
        team: WorkerTeam? = nil, alpha: Double = 0.9, groups: [Int]? = nil
    ) -> [MetricValue] {
        var ranking: (auc: Double, ap: Double)?
        if metrics.contains(.auc) || metrics.contains(.prAUC) {
            ranking =
                weights == nil
                ? rankingMetrics(predictions, labels, team: team) : self.ranking(predictions, labels, weights: weights)
        }
        let depths = metrics.compactMap(\.ndcgDepth)
        var ndcg: [Int: Double] = [:]
        if let groups, !depths.isEmpty {
            let values = NDCG.means(predictions, labels, offsets: groups, depths: depths, weights: weights)
            ndcg = Dictionary(zip(depths, values)) { a, _ in a }
        }
        return metrics.map { m in
            if let k = m.ndcgDepth, let value = ndcg[k] { return MetricValue(metric: m, value: value) }
            switch m {
            case .auc: return MetricValue(metric: m, value: ranking!.auc)
            case .prAUC: return MetricValue(metric: m, value: ranking!.ap)
            default:
                return MetricValue(
                    metric: m,
                    value: m.evaluate(
                        predictions: predictions, labels: labels, weights: weights, alpha: alpha, groups: groups))
            }
        }
    }

    /// AUC and average precision; the same definitions as `auc` and `averagePrecision`.
    ///
    /// The scores of positives and of negatives are sorted apart, as plain Doubles (the standard
    /// library's fast path, several times quicker than sorting (score, label) pairs through a
    /// closure: the booster measures these every iteration), then walked together, tied scores
    /// taken as one group.
    public static func rankingMetrics(
        _ scores: [Double], _ labels: [Float], team: WorkerTeam? = nil
    ) -> (auc: Double, ap: Double) {
        var positive: [Double] = []
        var negative: [Double] = []
        for i in scores.indices {
            if labels[i] > 0.5 { positive.append(scores[i]) } else { negative.append(scores[i]) }
        }
        if let team, team.size > 1 {
            positive.withUnsafeMutableBufferPointer { p in
                negative.withUnsafeMutableBufferPointer { n in
                    team.forEach(2) { k in if k == 0 { p.sort() } else { n.sort() } }
                }
            }
        } else {
            positive.sort()
            negative.sort()
        }
        let (positives, negatives) = (Double(positive.count), Double(negative.count))
        guard positives > 0 else { return (.nan, .nan) }
        // AUC: ascending, average ranks over ties. The rank sums are multiples of ½ far below 2⁵³,
        // so adding a group at once equals adding its members one by one.
        var rankSum = 0.0
        var (i, j, before) = (0, 0, 0)
        while i < positive.count || j < negative.count {
            let v =
                j >= negative.count || (i < positive.count && positive[i] <= negative[j]) ? positive[i] : negative[j]
            var (p, n) = (0, 0)
            while i < positive.count && positive[i] == v { (i, p) = (i + 1, p + 1) }
            while j < negative.count && negative[j] == v { (j, n) = (j + 1, n + 1) }
            if p + n == 0 {  // NaN: a group of its own
                if i < positive.count && positive[i].isNaN { (i, p) = (i + 1, 1) } else { (j, n) = (j + 1, 1) }
            }
            let averageRank = Double(2 * before + p + n - 1) / 2 + 1
            rankSum += averageRank * Double(p)
            before += p + n
        }
        let auc = negatives > 0 ? (rankSum - positives * (positives + 1) / 2) / (positives * negatives) : .nan
        // Average precision: descending, ties taken together.
        var truePositives = 0.0
        var seen = 0.0
        var previousRecall = 0.0
        var ap = 0.0
        (i, j) = (positive.count - 1, negative.count - 1)
        while i >= 0 || j >= 0 {
            let v = j < 0 || (i >= 0 && positive[i] >= negative[j]) ? positive[i] : negative[j]
            var (p, n) = (0, 0)
            while i >= 0 && positive[i] == v { (i, p) = (i - 1, p + 1) }
            while j >= 0 && negative[j] == v { (j, n) = (j - 1, n + 1) }
            if p + n == 0 {
                if i >= 0 && positive[i].isNaN { (i, p) = (i - 1, 1) } else { (j, n) = (j - 1, 1) }
            }
            seen += Double(p + n)
            truePositives += Double(p)
            let recall = truePositives / positives
            ap += (recall - previousRecall) * (truePositives / seen)
            previousRecall = recall
        }
        return (auc, ap)
    }

    /// Area under the ROC curve: the probability that a random positive scores above a random
    /// negative, ties counting one half (the Mann-Whitney statistic with average ranks).
    public static func auc(_ scores: [Double], _ labels: [Float]) -> Double {
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSumPositive = 0.0
        var positives = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let averageRank = Double(i + j) / 2 + 1
            for k in i...j where labels[order[k]] > 0.5 {
                rankSumPositive += averageRank
                positives += 1
            }
            i = j + 1
        }
        let negatives = Double(order.count) - positives
        guard positives > 0 && negatives > 0 else { return .nan }
        return (rankSumPositive - positives * (positives + 1) / 2) / (positives * negatives)
    }

    /// Average precision: Σ (recall_k − recall_{k−1}) · precision_k over thresholds from high to
    /// low, tied scores taken together (scikit-learn's definition).
    public static func averagePrecision(_ scores: [Double], _ labels: [Float]) -> Double {
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        let totalPositive = Double(labels.filter { $0 > 0.5 }.count)
        guard totalPositive > 0 else { return .nan }
        var truePositives = 0.0
        var seen = 0.0
        var previousRecall = 0.0
        var ap = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            for k in i...j {
                seen += 1
                if labels[order[k]] > 0.5 { truePositives += 1 }
            }
            let recall = truePositives / totalPositive
            ap += (recall - previousRecall) * (truePositives / seen)
            previousRecall = recall
            i = j + 1
        }
        return ap
    }

    public static func logloss(_ p: [Double], _ y: [Float]) -> Double {
        MetricKind.logloss.evaluate(predictions: p, labels: y)
    }

    public static func rmse(_ p: [Double], _ y: [Float]) -> Double {
        MetricKind.rmse.evaluate(predictions: p, labels: y)
    }

    public static func accuracy(_ p: [Double], _ y: [Float]) -> Double {
        MetricKind.accuracy.evaluate(predictions: p, labels: y)
    }

    /// Multiclass log loss or error rate of row-major probabilities (K a row, K from their count),
    /// weighted by `weights` when given. A predicted class is the first of the largest probabilities.
    static func multiclass(_ metric: MetricKind, _ p: [Double], _ y: [Float], _ weights: [Float]?) -> Double {
        guard !y.isEmpty, p.count % y.count == 0 else { return .nan }
        let classes = p.count / y.count
        var (total, weight) = (0.0, 0.0)
        for i in y.indices {
            let w = weights.map { Double($0[i]) } ?? 1
            guard w > 0 else { continue }
            let row = p[i * classes..<(i + 1) * classes]
            let label = Int(y[i])
            let term: Double
            if metric == .multiLogloss {
                term = label < classes ? -log(min(max(row[row.startIndex + label], 1e-15), 1)) : -log(1e-15)
            } else {
                let predicted = row.indices.max { row[$0] < row[$1] }!
                term = predicted - row.startIndex == label ? 0 : 1
            }
            total += w * term
            weight += w
        }
        return weight > 0 ? total / weight : .nan
    }

    /// The mean of `term(prediction, label)` over the rows, weighted by `weights` when given.
    @inline(__always)
    static func mean(_ p: [Double], _ y: [Float], _ weights: [Float]?, _ term: (Double, Double) -> Double) -> Double {
        var total = 0.0
        if let weights {
            var weight = 0.0
            for i in p.indices where weights[i] > 0 {
                total += Double(weights[i]) * term(p[i], Double(y[i]))
                weight += Double(weights[i])
            }
            return weight > 0 ? total / weight : .nan
        }
        for i in p.indices { total += term(p[i], Double(y[i])) }
        return total / Double(max(p.count, 1))
    }

    /// AUC (ties count half) and average precision; with weights, each row counts by its weight.
    public static func ranking(_ scores: [Double], _ labels: [Float], weights: [Float]?) -> (auc: Double, ap: Double) {
        guard let weights else { return (auc(scores, labels), averagePrecision(scores, labels)) }
        let order = ScoreOrder.ascending(scores)
        let auc = weightedAUC(order: order, scores: scores, labels: labels) { Double(weights[$0]) }
        // Average precision from the highest score down, a group of tied scores at a time.
        var (truePositives, seen, ap, previousRecall) = (0.0, 0.0, 0.0, 0.0)
        let totalPositive = order.reduce(0.0) { $0 + (labels[$1] > 0.5 ? Double(weights[$1]) : 0) }
        var i = order.count - 1
        while i >= 0 {
            let score = scores[order[i]]
            while i >= 0 && scores[order[i]] == score {
                let w = Double(weights[order[i]])
                seen += w
                if labels[order[i]] > 0.5 { truePositives += w }
                i -= 1
            }
            guard totalPositive > 0, seen > 0 else { continue }
            let recall = truePositives / totalPositive
            ap += (recall - previousRecall) * (truePositives / seen)
            previousRecall = recall
        }
        return (auc, totalPositive > 0 ? ap : .nan)
    }

    /// The AUC of rows counted `weight(i)` times each (ties count half), over `order`, the rows
    /// by increasing score. NaN when a class has no weight.
    @inline(__always)
    static func weightedAUC(order: [Int], scores: [Double], labels: [Float], weight: (Int) -> Double) -> Double {
        var negativesBelow = 0.0
        var pairs = 0.0
        var (positives, negatives) = (0.0, 0.0)
        var i = 0
        while i < order.count {
            var (groupPositives, groupNegatives) = (0.0, 0.0)
            let score = scores[order[i]]
            while i < order.count && scores[order[i]] == score {
                let r = order[i]
                if labels[r] > 0.5 { groupPositives += weight(r) } else { groupNegatives += weight(r) }
                i += 1
            }
            pairs += groupPositives * (negativesBelow + 0.5 * groupNegatives)
            negativesBelow += groupNegatives
            positives += groupPositives
            negatives += groupNegatives
        }
        return positives > 0 && negatives > 0 ? pairs / (positives * negatives) : .nan
    }
}
