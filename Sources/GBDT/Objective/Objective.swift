import Foundation

/// The loss a model is trained for. Names follow XGBoost's vocabulary in model files
/// (`binary:logistic`, `reg:squarederror`, `reg:absoluteerror`, `reg:quantileerror`,
/// `count:poisson`; `reg:huber` is fsml's, XGBoost having only the pseudo-Huber loss) and accept
/// LightGBM's on the command line.
public enum ObjectiveKind: String, Sendable, Equatable, CaseIterable {
    case binary = "binary:logistic"
    case regression = "reg:squarederror"
    case regressionL1 = "reg:absoluteerror"
    case huber = "reg:huber"
    case quantile = "reg:quantileerror"
    case poisson = "count:poisson"
    /// LambdaMART for NDCG over query groups (XGBoost's name).
    case lambdarank = "rank:ndcg"
    /// XE-NDCG over query groups (LightGBM's rank_xendcg).
    case rankXENDCG = "rank:xendcg"
    /// Softmax over `num_class` classes: one tree per class per round (XGBoost's multi:softprob,
    /// LightGBM's multiclass).
    case multiclass = "multi:softprob"

    public init?(name: String) {
        switch name.lowercased() {
        case "binary", "binary:logistic", "logistic", "cross_entropy", "xentropy": self = .binary
        case "regression", "reg:squarederror", "l2", "mse", "regression_l2", "mean_squared_error", "rmse":
            self = .regression
        case "regression_l1", "l1", "mae", "mean_absolute_error", "reg:absoluteerror": self = .regressionL1
        case "huber", "reg:huber": self = .huber
        case "quantile", "reg:quantileerror": self = .quantile
        case "poisson", "count:poisson": self = .poisson
        case "lambdarank", "rank:ndcg": self = .lambdarank
        case "rank_xendcg", "xendcg", "xe_ndcg", "xe_ndcg_mart", "xendcg_mart", "rank:xendcg": self = .rankXENDCG
        case "multiclass", "softmax", "multi:softprob", "multi:softmax": self = .multiclass
        default: return nil
        }
    }

    /// Names a user may give, for error messages.
    public static let described =
        "binary (binary:logistic), regression (reg:squarederror, l2), regression_l1 (l1, mae, reg:absoluteerror), huber, quantile (reg:quantileerror), poisson (count:poisson), lambdarank (rank:ndcg), rank_xendcg, multiclass (softmax, multi:softprob)"

    /// Whether `alpha` is this objective's own parameter (the Huber threshold, the quantile), as
    /// LightGBM reads it, rather than XGBoost's L1 regularisation.
    public var takesAlpha: Bool { self == .huber || self == .quantile }

    /// Whether the loss is over query groups, whose documents are scored together.
    public var isRanking: Bool { self == .lambdarank || self == .rankXENDCG }

    /// Whether a row has one output per class (and the model one tree per class per round).
    public var isMulticlass: Bool { self == .multiclass }

    /// The quantile of the residuals each leaf's output is set to after the tree is grown
    /// (LightGBM's leaf renewal), for losses whose Newton step says little: the median for L1.
    public func renewalQuantile(alpha: Double) -> Double? {
        switch self {
        case .regressionL1: 0.5
        case .quantile: alpha
        default: nil
        }
    }

    /// The constant margin boosting starts from, as LightGBM's boost_from_average does: the
    /// log-odds of the mean label, the mean, the median or the alpha-quantile, the log of the mean.
    public func initialScore(labels: [Float], weights: [Float]? = nil, alpha: Double = 0.9) -> Double {
        var mean = labels.reduce(0.0) { $0 + Double($1) } / Double(max(labels.count, 1))
        if let weights {
            let total = weights.reduce(0.0) { $0 + Double($1) }
            mean = zip(labels, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } / max(total, 1e-300)
        }
        switch self {
        case .binary:
            let p = min(max(mean, 1e-15), 1 - 1e-15)
            return log(p / (1 - p))
        case .regression, .huber:
            return mean
        case .regressionL1, .quantile:
            return Quantiles.of(
                labels.map(Double.init), renewalQuantile(alpha: alpha)!, weights: weights?.map(Double.init))
        case .poisson:
            return log(max(mean, 1e-15))
        case .lambdarank, .rankXENDCG:
            // Only the order within a query counts: no average to start from.
            return 0
        case .multiclass:
            // One start per class (MulticlassObjective.initialScores), folded into the first trees.
            return 0
        }
    }

    /// Gradient and hessian of the loss at each margin of `rows`. `alpha` is the Huber threshold
    /// or the quantile; `maxDeltaStep` steadies Poisson's hessian (LightGBM's poisson_max_delta_step).
    public func gradients(
        scores: UnsafePointer<Double>, labels: UnsafePointer<Float>, gradients g: UnsafeMutablePointer<Float>,
        hessians h: UnsafeMutablePointer<Float>, rows: Range<Int>, alpha: Double = 0.9, maxDeltaStep: Double = 0.7
    ) {
        switch self {
        case .binary:
            for i in rows {
                let p = 1 / (1 + exp(-scores[i]))
                g[i] = Float(p - Double(labels[i]))
                h[i] = Float(max(p * (1 - p), 1e-16))
            }
        case .regression:
            for i in rows {
                g[i] = Float(scores[i] - Double(labels[i]))
                h[i] = 1
            }
        case .regressionL1:
            for i in rows {
                let r = scores[i] - Double(labels[i])
                g[i] = r > 0 ? 1 : r < 0 ? -1 : 0
                h[i] = 1
            }
        case .huber:
            for i in rows {
                let r = scores[i] - Double(labels[i])
                g[i] = Float(abs(r) <= alpha ? r : (r > 0 ? alpha : -alpha))
                h[i] = 1
            }
        case .quantile:
            for i in rows {
                g[i] = Float(scores[i] > Double(labels[i]) ? 1 - alpha : -alpha)
                h[i] = 1
            }
        case .poisson:
            for i in rows {
                g[i] = Float(exp(scores[i]) - Double(labels[i]))
                h[i] = Float(exp(scores[i] + maxDeltaStep))
            }
        case .lambdarank, .rankXENDCG:
            preconditionFailure("ranking gradients are computed a query at a time (RankingObjective)")
        case .multiclass:
            preconditionFailure("softmax gradients are computed for every class at once (MulticlassObjective)")
        }
    }

    /// The metrics reported when none are asked for, the first deciding early stopping: the
    /// objective's own loss first.
    public var defaultMetrics: [MetricKind] {
        switch self {
        case .binary: [.logloss, .auc, .prAUC, .accuracy]
        case .regression: [.rmse, .mae]
        case .regressionL1: [.mae, .rmse]
        case .huber: [.huber, .rmse, .mae]
        case .quantile: [.quantile, .mae]
        case .poisson: [.poisson, .rmse]
        case .lambdarank, .rankXENDCG: [.ndcg1, .ndcg3, .ndcg5, .ndcg10]
        case .multiclass: [.multiLogloss, .multiError]
        }
    }

    /// Margin to output: probability, value or expected count. (A class's margin stays a margin:
    /// its probability needs every class's, `MulticlassObjective.softmax`.)
    @inline(__always)
    public func transform(_ margin: Double) -> Double {
        switch self {
        case .binary: return 1 / (1 + exp(-margin))
        case .regression, .regressionL1, .huber, .quantile, .lambdarank, .rankXENDCG, .multiclass: return margin
        case .poisson: return exp(margin)
        }
    }

    /// Output to margin: the inverse of `transform` (XGBoost stores base_score as an output).
    public func margin(ofOutput y: Double) -> Double {
        switch self {
        case .binary: return log(y / (1 - y))
        case .regression, .regressionL1, .huber, .quantile, .lambdarank, .rankXENDCG, .multiclass: return y
        case .poisson: return log(y)
        }
    }

    /// Labels must be 0/1 for binary objectives and counts (non-negative, not all zero) for Poisson.
    public func validate(labels: [Float]) -> String? {
        if labels.contains(where: { !$0.isFinite }) { return "labels must be finite numbers" }
        switch self {
        case .binary:
            if let bad = labels.first(where: { $0 != 0 && $0 != 1 }) {
                return "binary labels must be 0 or 1 (found \(bad))"
            }
        case .poisson:
            if let bad = labels.first(where: { $0 < 0 }) { return "poisson labels must be 0 or more (found \(bad))" }
            if !labels.contains(where: { $0 > 0 }) { return "poisson labels must not all be 0" }
        case .lambdarank, .rankXENDCG:
            if let bad = labels.first(where: { $0 < 0 || $0 > 30 || $0 != $0.rounded() }) {
                return "relevance labels must be whole numbers from 0 to 30 (found \(bad))"
            }
        case .multiclass:
            if let bad = labels.first(where: { $0 < 0 || $0 != $0.rounded() || $0 >= 65_536 }) {
                return "class labels must be whole numbers from 0 to num_class − 1 (found \(bad))"
            }
        default: break
        }
        return nil
    }
}

/// Quantiles of samples, as LightGBM's leaf renewal takes them.
public enum Quantiles {
    /// The `q`-quantile of `values` by linear interpolation between order statistics at position
    /// q · (n − 1) (numpy's default); 0 for no values.
    ///
    /// With weights, each value stands at the middle of its share of the total weight, and the
    /// quantile is interpolated between those points (values of zero weight are left out).
    public static func of(_ values: [Double], _ q: Double, weights: [Double]? = nil) -> Double {
        if let weights { return weighted(values, q, weights) }
        guard !values.isEmpty else { return 0 }
        var v = values
        let position = q * Double(v.count - 1)
        let lo = Int(position.rounded(.down))
        let hi = min(lo + 1, v.count - 1)
        // Only the two order statistics are needed: partial selection would do; sorting is simple.
        v.sort()
        return v[lo] + (v[hi] - v[lo]) * (position - Double(lo))
    }

    static func weighted(_ values: [Double], _ q: Double, _ weights: [Double]) -> Double {
        let order = values.indices.filter { weights[$0] > 0 }.sorted { values[$0] < values[$1] }
        guard let first = order.first else { return 0 }
        let total = order.reduce(0.0) { $0 + weights[$1] }
        var before = 0.0
        var previous: (position: Double, value: Double)?
        for i in order {
            let position = (before + weights[i] / 2) / total
            before += weights[i]
            if position >= q {
                guard let p = previous else { return values[first] }
                return p.value + (values[i] - p.value) * (q - p.position) / (position - p.position)
            }
            previous = (position, values[i])
        }
        return values[order.last!]
    }
}
