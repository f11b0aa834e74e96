import Foundation
import FsmlCore

/// Training parameters, named as LightGBM names them, with the aliases LightGBM and XGBoost users
/// type (eta, max_leaves, subsample, colsample_bytree, reg_lambda...). An unknown name is an error.
public struct TrainingParams: Sendable, Equatable {
    public var objective: ObjectiveKind = .binary
    public var numIterations = 100
    public var learningRate = 0.1
    public var numLeaves = 31
    /// -1: no limit.
    public var maxDepth = -1
    public var minDataInLeaf = 20
    public var minSumHessianInLeaf = 1e-3
    public var lambdaL1: Double {
        get { explicitL1 ?? (objective.takesAlpha ? nil : alphaSetting) ?? 0 }
        set { explicitL1 = newValue }
    }
    /// The Huber threshold or the quantile (LightGBM's `alpha`, 0.9 unless set).
    public var objectiveAlpha: Double {
        get { explicitObjectiveAlpha ?? (objective.takesAlpha ? alphaSetting : nil) ?? 0.9 }
        set { explicitObjectiveAlpha = newValue }
    }
    /// Per feature: 1 for a prediction that may only rise with it, −1 only fall, 0 free (LightGBM's
    /// monotone_constraints); empty: none.
    public var monotoneConstraints: [Int8] = []
    /// LambdaMART: pairs only with a document above this rank; normalised lambdas; the sigmoid's slope.
    public var lambdarankTruncationLevel = 30
    public var lambdarankNorm = true
    public var sigmoid = 1.0
    /// Classes of a multiclass objective; 0: one more than the largest training label.
    public var numClass = 0
    /// Features split by category rather than by threshold, as LightGBM's categorical_feature
    /// gives them: column indices ("0,3"), or names after "name:" ("name:device,country").
    public var categoricalFeature = ""
    public var categorical = CategoricalSplitParams()
    /// Poisson's hessian is exp(score + this): larger steadies the first steps.
    public var poissonMaxDeltaStep = 0.7
    /// `alpha` means LightGBM's objective parameter for the Huber and quantile losses and
    /// XGBoost's L1 regularisation otherwise; it is read by the objective in force at the end.
    private var alphaSetting: Double?
    private var explicitL1: Double?
    private var explicitObjectiveAlpha: Double?
    public var lambdaL2 = 0.0
    public var minGainToSplit = 0.0
    public var featureFraction = 1.0
    public var baggingFraction = 1.0
    /// Resample the bag every this many iterations; 0 turns bagging off.
    public var baggingFreq = 0
    public var seed: UInt64 = 0
    /// 0: no early stopping.
    public var earlyStoppingRounds = 0
    public var maxBin = 255
    public var binConstructSampleCount = 200_000
    /// 0: FSML_THREADS or every core.
    public var numThreads = 0
    /// Metrics to report; the first one decides early stopping. Empty: the objective's own.
    public var metrics: [MetricKind] = []
    /// Logistic regression: L2 strength and Newton iterations.
    public var maxIterations = 50
    /// The parameters a setting gave, by their canonical names (whatever alias was typed), so that
    /// a default that depends on the context applies only where the user set nothing.
    public private(set) var given: Set<String> = []

    public init() {}

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    static let aliases: [String: String] = [
        "objective": "objective", "application": "objective", "app": "objective", "loss": "objective",
        "num_iterations": "num_iterations", "num_iteration": "num_iterations", "n_iter": "num_iterations",
        "num_tree": "num_iterations", "num_trees": "num_iterations", "num_round": "num_iterations",
        "num_rounds": "num_iterations", "nrounds": "num_iterations", "num_boost_round": "num_iterations",
        "n_estimators": "num_iterations",
        "learning_rate": "learning_rate", "shrinkage_rate": "learning_rate", "eta": "learning_rate",
        "num_leaves": "num_leaves", "num_leaf": "num_leaves", "max_leaves": "num_leaves", "max_leaf": "num_leaves",
        "max_depth": "max_depth",
        "min_data_in_leaf": "min_data_in_leaf", "min_data_per_leaf": "min_data_in_leaf", "min_data": "min_data_in_leaf",
        "min_child_samples": "min_data_in_leaf", "min_samples_leaf": "min_data_in_leaf",
        "min_sum_hessian_in_leaf": "min_sum_hessian_in_leaf", "min_sum_hessian_per_leaf": "min_sum_hessian_in_leaf",
        "min_sum_hessian": "min_sum_hessian_in_leaf", "min_hessian": "min_sum_hessian_in_leaf",
        "min_child_weight": "min_sum_hessian_in_leaf",
        "lambda_l1": "lambda_l1", "reg_alpha": "lambda_l1", "l1_regularization": "lambda_l1", "alpha": "alpha",
        "quantile_alpha": "objective_alpha", "huber_delta": "objective_alpha",
        "poisson_max_delta_step": "poisson_max_delta_step", "max_delta_step": "poisson_max_delta_step",
        "lambdarank_truncation_level": "lambdarank_truncation_level", "lambdarank_norm": "lambdarank_norm",
        "num_class": "num_class", "num_classes": "num_class", "n_classes": "num_class",
        "categorical_feature": "categorical_feature", "cat_feature": "categorical_feature",
        "categorical_column": "categorical_feature", "cat_column": "categorical_feature",
        "categorical_features": "categorical_feature", "max_cat_to_onehot": "max_cat_to_onehot",
        "cat_smooth": "cat_smooth", "cat_l2": "cat_l2", "min_data_per_group": "min_data_per_group",
        "max_cat_threshold": "max_cat_threshold",
        "sigmoid": "sigmoid", "ndcg_eval_at": "ndcg_eval_at", "ndcg_at": "ndcg_eval_at", "eval_at": "ndcg_eval_at",
        "monotone_constraints": "monotone_constraints", "mc": "monotone_constraints",
        "monotone_constraint": "monotone_constraints", "monotonic_cst": "monotone_constraints",
        "lambda_l2": "lambda_l2", "reg_lambda": "lambda_l2", "lambda": "lambda_l2", "l2_regularization": "lambda_l2",
        "min_gain_to_split": "min_gain_to_split", "min_split_gain": "min_gain_to_split", "gamma": "min_gain_to_split",
        "feature_fraction": "feature_fraction", "sub_feature": "feature_fraction",
        "colsample_bytree": "feature_fraction",
        "bagging_fraction": "bagging_fraction", "sub_row": "bagging_fraction", "subsample": "bagging_fraction",
        "bagging": "bagging_fraction",
        "bagging_freq": "bagging_freq", "subsample_freq": "bagging_freq",
        "seed": "seed", "random_seed": "seed", "random_state": "seed",
        "early_stopping_rounds": "early_stopping_rounds", "early_stopping_round": "early_stopping_rounds",
        "early_stopping": "early_stopping_rounds", "n_iter_no_change": "early_stopping_rounds",
        "max_bin": "max_bin", "max_bins": "max_bin",
        "bin_construct_sample_cnt": "bin_construct_sample_cnt", "subsample_for_bin": "bin_construct_sample_cnt",
        "num_threads": "num_threads", "num_thread": "num_threads", "nthread": "num_threads", "nthreads": "num_threads",
        "n_jobs": "num_threads",
        "metric": "metric", "metrics": "metric", "eval_metric": "metric",
        "max_iter": "max_iter",
    ]

    /// Applies `key=value` settings in order.
    public mutating func apply(_ settings: [String]) throws(ParseError) {
        for setting in settings {
            guard let eq = setting.firstIndex(of: "=") else {
                throw ParseError(description: "'\(setting)' is not key=value")
            }
            try set(
                String(setting[..<eq]).trimmingCharacters(in: .whitespaces),
                String(setting[setting.index(after: eq)...]).trimmingCharacters(in: .whitespaces))
        }
    }

    public mutating func set(_ key: String, _ value: String) throws(ParseError) {
        guard let name = Self.aliases[key.lowercased()] else {
            let known = Set(Self.aliases.values).sorted().joined(separator: ", ")
            throw ParseError(description: "unknown parameter '\(key)' (known: \(known))")
        }
        defer { given.insert(name) }
        func int(_ range: ClosedRange<Int>) throws(ParseError) -> Int {
            guard let v = Int(value), range.contains(v) else {
                throw ParseError(
                    description: "\(key)=\(value): expected a whole number in \(range.lowerBound)...\(range.upperBound)"
                )
            }
            return v
        }
        func double(_ lo: Double, _ hi: Double) throws(ParseError) -> Double {
            guard let v = Double(value), v >= lo, v <= hi else {
                throw ParseError(description: "\(key)=\(value): expected a number in [\(lo), \(hi)]")
            }
            return v
        }
        switch name {
        case "objective":
            guard let o = ObjectiveKind(name: value) else {
                throw ParseError(
                    description:
                        "\(key)=\(value): objectives are \(ObjectiveKind.described)"
                )
            }
            objective = o
        case "num_iterations": numIterations = try int(1...1_000_000)
        case "learning_rate": learningRate = try double(1e-9, 10)
        case "num_leaves": numLeaves = try int(2...131_072)
        case "max_depth":
            let d = try int(-1...1000)
            maxDepth = d == 0 ? -1 : d
        case "min_data_in_leaf": minDataInLeaf = try int(1...Int.max)
        case "min_sum_hessian_in_leaf": minSumHessianInLeaf = try double(0, .greatestFiniteMagnitude)
        case "lambda_l1": lambdaL1 = try double(0, .greatestFiniteMagnitude)
        case "alpha": alphaSetting = try double(0, .greatestFiniteMagnitude)
        case "objective_alpha": objectiveAlpha = try double(0, .greatestFiniteMagnitude)
        case "poisson_max_delta_step": poissonMaxDeltaStep = try double(0, 100)
        case "lambdarank_truncation_level": lambdarankTruncationLevel = try int(1...1_000_000)
        case "lambdarank_norm":
            guard let b = ["true": true, "false": false, "1": true, "0": false][value.lowercased()] else {
                throw ParseError(description: "\(key)=\(value): expected true or false")
            }
            lambdarankNorm = b
        case "sigmoid": sigmoid = try double(1e-9, 1000)
        case "num_class": numClass = try int(1...65_536)
        case "categorical_feature": categoricalFeature = value
        case "max_cat_to_onehot": categorical.maxCatToOnehot = try int(1...256)
        case "cat_smooth": categorical.catSmooth = try double(0, .greatestFiniteMagnitude)
        case "cat_l2": categorical.catL2 = try double(0, .greatestFiniteMagnitude)
        case "min_data_per_group": categorical.minDataPerGroup = try int(1...Int.max)
        case "max_cat_threshold": categorical.maxCatThreshold = try int(1...256)
        case "ndcg_eval_at":
            var list: [MetricKind] = []
            for part in value.split(separator: ",") {
                guard let m = MetricKind(name: "ndcg@" + part.trimmingCharacters(in: .whitespaces)) else {
                    throw ParseError(description: "\(key)=\(value): NDCG is reported at 1, 3, 5 and 10")
                }
                list.append(m)
            }
            metrics = list
        case "monotone_constraints":
            // "1,-1,0", or XGBoost's "(1,-1,0)".
            let parts = value.trimmingCharacters(in: CharacterSet(charactersIn: "()[] ")).split(separator: ",")
            var list: [Int8] = []
            for part in parts {
                guard let d = Int8(part.trimmingCharacters(in: .whitespaces)), (-1...1).contains(d) else {
                    throw ParseError(description: "\(key)=\(value): expected -1, 0 or 1 per feature, comma-separated")
                }
                list.append(d)
            }
            monotoneConstraints = list
        case "lambda_l2": lambdaL2 = try double(0, .greatestFiniteMagnitude)
        case "min_gain_to_split": minGainToSplit = try double(0, .greatestFiniteMagnitude)
        case "feature_fraction": featureFraction = try double(1e-9, 1)
        case "bagging_fraction": baggingFraction = try double(1e-9, 1)
        case "bagging_freq": baggingFreq = try int(0...1_000_000)
        case "seed":
            guard let s = UInt64(value) ?? Int64(value).map({ UInt64(bitPattern: $0) }) else {
                throw ParseError(description: "\(key)=\(value): expected a whole number")
            }
            seed = s
        case "early_stopping_rounds": earlyStoppingRounds = try int(0...1_000_000)
        case "max_bin": maxBin = try int(2...255)
        case "bin_construct_sample_cnt": binConstructSampleCount = try int(1...Int.max)
        case "num_threads": numThreads = try int(0...1024)
        case "max_iter": maxIterations = try int(1...10_000)
        case "metric":
            var list: [MetricKind] = []
            for part in value.split(separator: ",") {
                let name = String(part).trimmingCharacters(in: .whitespaces)
                // LightGBM's "ndcg" is NDCG at each of ndcg_eval_at.
                if name.lowercased() == "ndcg" {
                    let depths = metrics.filter { $0.ndcgDepth != nil }
                    list += depths.isEmpty ? [.ndcg1, .ndcg3, .ndcg5] : depths
                    continue
                }
                guard let m = MetricKind(name: name) else {
                    throw ParseError(
                        description:
                            "\(key)=\(value): metrics are \(MetricKind.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                list.append(m)
            }
            metrics = list
        default:
            throw ParseError(description: "unknown parameter '\(key)'")
        }
    }

    public var threads: Int { numThreads > 0 ? numThreads : Parallel.defaultThreads }

    /// Whether a setting gave this parameter (its canonical name: `early_stopping_rounds`, `lambda_l2`).
    public func isGiven(_ name: String) -> Bool { given.contains(name) }

    /// The columns `categoricalFeature` names, among features named `names`.
    public func categoricalColumns(names: [String]) throws(ParseError) -> Set<Int> {
        let spec = categoricalFeature.trimmingCharacters(in: .whitespaces)
        guard !spec.isEmpty else { return [] }
        var columns: Set<Int> = []
        if spec.hasPrefix("name:") {
            for part in spec.dropFirst(5).split(separator: ",") {
                let name = part.trimmingCharacters(in: .whitespaces)
                guard let f = names.firstIndex(of: name) else {
                    throw ParseError(description: "categorical_feature: no feature is named '\(name)'")
                }
                columns.insert(f)
            }
            return columns
        }
        for part in spec.split(separator: ",") {
            guard let f = Int(part.trimmingCharacters(in: .whitespaces)), f >= 0, f < names.count else {
                throw ParseError(
                    description:
                        "categorical_feature=\(spec): expected column indices below \(names.count), or name:NAME,NAME")
            }
            columns.insert(f)
        }
        return columns
    }

    /// The metrics reported, the first deciding early stopping.
    public var effectiveMetrics: [MetricKind] {
        metrics.isEmpty ? objective.defaultMetrics : metrics
    }

    /// The parameters as LightGBM spells them, for logs, model files and run records.
    public var asDictionary: [(String, String)] {
        var out: [(String, String)] = [
            ("objective", objective.rawValue), ("num_iterations", "\(numIterations)"),
            ("learning_rate", "\(learningRate)"), ("num_leaves", "\(numLeaves)"), ("max_depth", "\(maxDepth)"),
            ("min_data_in_leaf", "\(minDataInLeaf)"), ("min_sum_hessian_in_leaf", "\(minSumHessianInLeaf)"),
            ("lambda_l1", "\(lambdaL1)"), ("lambda_l2", "\(lambdaL2)"), ("min_gain_to_split", "\(minGainToSplit)"),
            ("feature_fraction", "\(featureFraction)"), ("bagging_fraction", "\(baggingFraction)"),
            ("bagging_freq", "\(baggingFreq)"), ("seed", "\(seed)"),
            ("early_stopping_rounds", "\(earlyStoppingRounds)"),
            ("max_bin", "\(maxBin)"), ("bin_construct_sample_cnt", "\(binConstructSampleCount)"),
        ]
        if objective.takesAlpha { out.append(("alpha", "\(objectiveAlpha)")) }
        if objective == .poisson { out.append(("poisson_max_delta_step", "\(poissonMaxDeltaStep)")) }
        if objective.isMulticlass && numClass > 0 { out.append(("num_class", "\(numClass)")) }
        if !categoricalFeature.isEmpty {
            out += [
                ("categorical_feature", categoricalFeature), ("max_cat_to_onehot", "\(categorical.maxCatToOnehot)"),
                ("cat_smooth", "\(categorical.catSmooth)"), ("cat_l2", "\(categorical.catL2)"),
                ("min_data_per_group", "\(categorical.minDataPerGroup)"),
                ("max_cat_threshold", "\(categorical.maxCatThreshold)"),
            ]
        }
        if !monotoneConstraints.isEmpty {
            out.append(("monotone_constraints", monotoneConstraints.map { "\($0)" }.joined(separator: ",")))
        }
        return out
    }
}
