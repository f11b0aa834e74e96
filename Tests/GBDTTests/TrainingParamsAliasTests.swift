import Foundation
import Testing

@testable import GBDT

/// Every name the parameter table accepts (LightGBM's and its aliases, XGBoost's, scikit-learn's)
/// sets the value the learner reads: each alias gets a value unlike the default, and the typed
/// field must hold it.
@Suite struct TrainingParamsAliasTests {
    /// Per canonical name: a setting's value and whether the typed parameters hold it.
    static let checks: [String: (value: String, holds: @Sendable (TrainingParams) -> Bool)] = [
        "objective": ("poisson", { $0.objective == .poisson }),
        "num_iterations": ("77", { $0.numIterations == 77 }),
        "learning_rate": ("0.03", { $0.learningRate == 0.03 }),
        "num_leaves": ("9", { $0.numLeaves == 9 }),
        "max_depth": ("5", { $0.maxDepth == 5 }),
        "min_data_in_leaf": ("7", { $0.minDataInLeaf == 7 }),
        "min_sum_hessian_in_leaf": ("0.5", { $0.minSumHessianInLeaf == 0.5 }),
        "lambda_l1": ("0.25", { $0.lambdaL1 == 0.25 }),
        "alpha": ("0.25", { $0.lambdaL1 == 0.25 }),  // L1 for losses other than Huber and quantile
        "objective_alpha": ("0.3", { $0.objectiveAlpha == 0.3 }),
        "poisson_max_delta_step": ("0.9", { $0.poissonMaxDeltaStep == 0.9 }),
        "lambdarank_truncation_level": ("12", { $0.lambdarankTruncationLevel == 12 }),
        "lambdarank_norm": ("false", { !$0.lambdarankNorm }),
        "sigmoid": ("2", { $0.sigmoid == 2 }),
        "ndcg_eval_at": ("3", { $0.metrics == [.ndcg3] }),
        "num_class": ("4", { $0.numClass == 4 }),
        "categorical_feature": ("name:a,b", { $0.categoricalFeature == "name:a,b" }),
        "max_cat_to_onehot": ("6", { $0.categorical.maxCatToOnehot == 6 }),
        "cat_smooth": ("3", { $0.categorical.catSmooth == 3 }),
        "cat_l2": ("4", { $0.categorical.catL2 == 4 }),
        "min_data_per_group": ("11", { $0.categorical.minDataPerGroup == 11 }),
        "max_cat_threshold": ("8", { $0.categorical.maxCatThreshold == 8 }),
        "monotone_constraints": ("1,-1", { $0.monotoneConstraints == [1, -1] }),
        "lambda_l2": ("3", { $0.lambdaL2 == 3 }),
        "min_gain_to_split": ("0.2", { $0.minGainToSplit == 0.2 }),
        "feature_fraction": ("0.7", { $0.featureFraction == 0.7 }),
        "bagging_fraction": ("0.6", { $0.baggingFraction == 0.6 }),
        "bagging_freq": ("3", { $0.baggingFreq == 3 }),
        "seed": ("99", { $0.seed == 99 }),
        "early_stopping_rounds": ("13", { $0.earlyStoppingRounds == 13 }),
        "max_bin": ("63", { $0.maxBin == 63 }),
        "bin_construct_sample_cnt": ("5000", { $0.binConstructSampleCount == 5000 }),
        "num_threads": ("3", { $0.numThreads == 3 }),
        "metric": ("mae", { $0.metrics == [.mae] }),
        "max_iter": ("17", { $0.maxIterations == 17 }),
    ]

    @Test func everyAliasSetsItsParameter() throws {
        var seen: Set<String> = []
        for (alias, name) in TrainingParams.aliases.sorted(by: { $0.key < $1.key }) {
            guard let check = Self.checks[name] else {
                Issue.record("no check for \(name) (alias \(alias))")
                continue
            }
            var p = TrainingParams()
            try p.set(alias, check.value)
            #expect(check.holds(p), "\(alias)=\(check.value) did not reach \(name)")
            #expect(p.isGiven(name) && p.given == [name], "\(alias) recorded as \(p.given)")
            // Case does not matter, as in LightGBM.
            var upper = TrainingParams()
            try upper.set(alias.uppercased(), check.value)
            #expect(check.holds(upper), "\(alias.uppercased())")
            seen.insert(name)
        }
        #expect(seen == Set(Self.checks.keys))
    }
}
