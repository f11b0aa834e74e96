import FsmlCore
import GBDT

/// What `fsml train --model` fits: gradient-boosted trees or the logistic baseline.
public enum ModelKind: String, CaseIterable, Sendable { case gbdt, logistic }

/// A trained model with what the command prints and logs about it.
public struct Fitted {
    public var model: AnyModel
    public var history: [IterationRecord]
    public var summary: String
    public var timings: [(String, JSONValue)]
    public var metricsTable: [(String, Double, Double?)]
    public var validPredictions: [Double]?
}

public enum Fitting {
    /// Fits a calibration of `fitted`'s probabilities on `slice` and stores it in the model; the
    /// validation predictions become the calibrated ones.
    public static func calibrate(
        _ fitted: Fitted, method: Calibration.Method, on slice: LabeledData, valid: LabeledData?
    )
        -> Fitted
    {
        guard case .gbdt(var m) = fitted.model else { return fitted }
        let calibration = Calibration.fit(
            method, predictions: FlatPredictor(m).predict(slice.features), labels: slice.labels)
        m.calibration = calibration
        var out = fitted
        out.model = .gbdt(m)
        out.validPredictions = valid.map { FlatPredictor(m).predict($0.features) }
        StandardError.line("calibration: \(method.rawValue) fitted on \(Progress.count(slice.rows)) held-out rows")
        return out
    }

    public static func fit(
        model kind: ModelKind, train: LabeledData, valid: LabeledData?, parameters: TrainingParams
    ) throws -> Fitted {
        StandardError.line(
            "train: \(Progress.count(train.rows)) rows × \(train.features.columns) features"
                + (valid.map { ", valid: \(Progress.count($0.rows)) rows" } ?? ""))
        let reporter = IterationReporter(total: kind == .gbdt ? parameters.numIterations : parameters.maxIterations)
        switch kind {
        case .gbdt:
            let result = try Booster.train(train, valid: valid, params: parameters) { reporter.report($0) }
            reporter.finish()
            let predictor = FlatPredictor(result.model)
            let table = metricsTable(
                parameters.effectiveMetrics, train: train, valid: valid, trainPredictions: result.trainPredictions,
                validPredictions: result.validPredictions, alpha: parameters.objectiveAlpha
            ) { predictor.predict($0) }
            return Fitted(
                model: .gbdt(result.model), history: result.history,
                summary:
                    "train: \(result.model.trees.count) trees (best iteration \(result.bestIteration)); binning \(Progress.fixed(result.binningSeconds, 2)) s, training \(Progress.fixed(result.trainingSeconds, 2)) s",
                timings: [
                    ("binning_seconds", .number(result.binningSeconds)),
                    ("training_seconds", .number(result.trainingSeconds)),
                    ("trees", .int(result.model.trees.count)), ("best_iteration", .int(result.bestIteration)),
                ], metricsTable: table,
                validPredictions: valid.map { result.validPredictions ?? predictor.predict($0.features) })
        case .logistic:
            // The baseline's own default L2 strength is 1 (the trees' is 0).
            let lambda = parameters.isGiven("lambda_l2") ? parameters.lambdaL2 : 1
            let result = try LogisticRegression.train(
                train, valid: valid, lambda: lambda, maxIterations: parameters.maxIterations
            ) { reporter.report($0) }
            reporter.finish()
            let table = metricsTable([.logloss, .auc, .prAUC, .accuracy], train: train, valid: valid) {
                result.model.predict($0)
            }
            return Fitted(
                model: .logistic(result.model), history: result.history,
                summary:
                    "train: logistic regression, \(result.iterations) Newton steps, \(Progress.fixed(result.trainingSeconds, 2)) s",
                timings: [
                    ("training_seconds", .number(result.trainingSeconds)), ("iterations", .int(result.iterations)),
                ], metricsTable: table, validPredictions: valid.map { result.model.predict($0.features) })
        }
    }

    public static func metricsTable(
        _ metrics: [MetricKind], train: LabeledData, valid: LabeledData?, trainPredictions: [Double]? = nil,
        validPredictions: [Double]? = nil, alpha: Double = 0.9, predict: (DenseMatrix) -> [Double]
    ) -> [(String, Double, Double?)] {
        let p = trainPredictions ?? predict(train.features)
        let q = validPredictions ?? valid.map { predict($0.features) }
        let onTrain = Metrics.evaluate(
            metrics, predictions: p, labels: train.labels, weights: train.weights, alpha: alpha,
            groups: train.groupOffsets)
        let onValid = q.map {
            Metrics.evaluate(
                metrics, predictions: $0, labels: valid!.labels, weights: valid!.weights, alpha: alpha,
                groups: valid!.groupOffsets)
        }
        return metrics.indices.map { (metrics[$0].rawValue, onTrain[$0].value, onValid?[$0].value) }
    }

    public static func importance(_ model: GBDTModel) -> [(feature: String, split: Double, gain: Double)] {
        let split = model.featureImportance(.split)
        let gain = model.featureImportance(.gain)
        return model.featureNames.indices.sorted { gain[$0] > gain[$1] }.map {
            (model.featureNames[$0], split[$0], gain[$0])
        }
    }

    public static func importanceCSV(_ model: GBDTModel) -> String {
        var text = "feature,split,gain\n"
        for (f, split, gain) in importance(model) { text += "\(f),\(Int(split)),\(gain)\n" }
        return text
    }
}
