import ArgumentParser
import FsmlCore
import GBDT

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a gradient-boosted tree model (or the logistic baseline), tracked in an experiment.",
        discussion: """
            With --experiment, the run is tracked: the point-in-time dataset is built from the offline store \
            (or --dataset is read), split by time (validation = the last --valid-days), trained with early \
            stopping, evaluated and logged with its model, manifest, importance and an HTML report. With --data, \
            a CSV/TSV/LibSVM file is trained on (logged too when --experiment is given). \
            Parameters use LightGBM's names (num_leaves, learning_rate, num_iterations, min_data_in_leaf, \
            lambda_l2, feature_fraction, bagging_fraction, bagging_freq, early_stopping_rounds, max_bin, seed...) \
            and accept XGBoost's common aliases (eta, max_leaves, subsample, colsample_bytree, reg_lambda...). \
            Early stopping watches the first metric on the validation data.
            """
    )

    @OptionGroup var data: DataFileOptions
    @Option(help: "Validation data for --data, in the same format.") var valid: String?
    @Option(help: "gbdt or logistic.") var model: ModelKind = .gbdt
    @Option(
        name: .customLong("param"),
        help: ArgumentHelp("A training parameter, key=value (repeatable).", valueName: "key=value"))
    var params: [String] = []
    @Option(help: "Where to write the model (required with --data and no --experiment).") var out: String?
    @Option(help: "Also write feature importance (split count and gain) as CSV.") var importance: String?
    @Option(help: "Track the run in this experiment (made when it does not exist).") var experiment: String?
    @Option(help: "The run's name (default: run-<id>).") var runName: String?
    @Option(help: "A point-in-time dataset from `fsml build` (.parquet) instead of building one.") var dataset: String?
    @Option(help: "Earliest example time of the dataset to build, ISO-8601 UTC.") var start: String?
    @Option(help: "End of the example times of the dataset to build (exclusive).") var end: String?
    @Option(
        help: """
            Train on the features of these feature views only (comma-separated; default: every view), e.g. a \
            baseline beside the full model on the same dataset and split.
            """) var views: String?
    @Option(help: "Days at the end of the data that form the validation set.") var validDays: Double = 1
    @Option(help: "Validation starts at this time instead (ISO-8601 UTC).") var validStart: String?
    @Option(
        name: .customLong("segment"),
        help: """
            A dataset column to report metrics per value of (repeatable; default: the categorical event fields \
            other than keys and ids that have 2 to 20 values in the validation rows).
            """)
    var segments: [String] = []
    @Option(
        help: """
            Calibrate the model's probabilities (platt or isotonic) on a held-out slice: the last \
            --calibration-days before the validation rows, left out of training. Stored with the model and applied \
            wherever it scores (predict, the server). Binary gbdt models trained on the feature store's data.
            """) var calibrate: Calibration.Method?
    @Option(help: "Days before the validation rows that form the calibration slice, with --calibrate.")
    var calibrationDays: Double = 1
    @Option(help: "The offline store directory (default: stores.offline in fsml.yaml).") var offline: String?
    @OptionGroup var tracking: TrackingOptions
    @OptionGroup var output: FormatOption
    @OptionGroup var global: GlobalOptions

    enum ModelKind: String, ExpressibleByArgument, CaseIterable { case gbdt, logistic }

    func validate() throws {
        if data.data == nil && experiment == nil {
            throw ValidationError("give --data FILE, or --experiment NAME to train on the feature store's data")
        }
        if data.data != nil && experiment == nil && out == nil {
            throw ValidationError("--out is required when the run is not tracked (no --experiment)")
        }
        if data.data != nil && (dataset != nil || start != nil || end != nil) {
            throw ValidationError("--data cannot be combined with --dataset, --start or --end")
        }
        if validDays <= 0 { throw ValidationError("--valid-days must be positive") }
        if calibrate != nil && (experiment == nil || data.data != nil || model != .gbdt) {
            throw ValidationError(
                "--calibrate needs a gbdt model trained on the feature store's data (--experiment, no --data): its slice is cut by time"
            )
        }
        if calibrationDays <= 0 { throw ValidationError("--calibration-days must be positive") }
    }

    func run() throws {
        var parameters = TrainingParams()
        try parameters.apply(params)
        if let experiment {
            try TrackedTraining(command: self, parameters: parameters, experiment: experiment).run()
            return
        }
        let train = try data.load(data.data!)
        let validation = try valid.map { try data.loadValidation($0, like: train) }
        let fitted = try Fitting.fit(
            model: model, train: train, valid: validation, parameters: parameters)
        try fitted.model.save(to: out!)
        StandardError.line("\(fitted.summary); wrote \(out!)")
        if let importance, case .gbdt(let m) = fitted.model {
            try FileSystem.writeAtomically(Fitting.importanceCSV(m), to: importance)
        }
        MetricsOutput.print(fitted.metricsTable, format: output.format, extra: fitted.timings)
    }
}

/// A trained model with what the command prints and logs about it.
struct Fitted {
    var model: AnyModel
    var history: [IterationRecord]
    var summary: String
    var timings: [(String, JSONValue)]
    var metricsTable: [(String, Double, Double?)]
    var validPredictions: [Double]?
}

enum Fitting {
    /// Fits a calibration of `fitted`'s probabilities on `slice` and stores it in the model; the
    /// validation predictions become the calibrated ones.
    static func calibrate(
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

    static func fit(
        model kind: Train.ModelKind, train: LabeledData, valid: LabeledData?, parameters: TrainingParams
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

    static func metricsTable(
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

    static func importance(_ model: GBDTModel) -> [(feature: String, split: Double, gain: Double)] {
        let split = model.featureImportance(.split)
        let gain = model.featureImportance(.gain)
        return model.featureNames.indices.sorted { gain[$0] > gain[$1] }.map {
            (model.featureNames[$0], split[$0], gain[$0])
        }
    }

    static func importanceCSV(_ model: GBDTModel) -> String {
        var text = "feature,split,gain\n"
        for (f, split, gain) in importance(model) { text += "\(f),\(Int(split)),\(gain)\n" }
        return text
    }
}

/// The data-file options `train` and `predict` share.
struct DataFileOptions: ParsableArguments {
    @Option(help: "The data file (CSV, TSV or LibSVM; .gz is read too).") var data: String?
    @Option(help: "csv, tsv or libsvm (default: from the file name).") var dataFormat: DataFormat?
    @Option(help: "The label column: an index from 0, a header name, or none.") var labelColumn: String = "0"
    @Option(
        help: "A column of sample weights (index or header name); without it, FILE.weight is read when it exists.")
    var weightColumn: String?
    @Option(
        help: """
            A column of query ids (index or header name) for ranking: each run of rows with one id is a query; \
            without it, FILE.query is read when it exists.
            """)
    var groupColumn: String?
    @Option(help: "Whether the first line is a header: auto, yes or no.") var header: DelimitedOptions.Header = .auto

    func format(of path: String) -> DataFormat { dataFormat ?? DataFormat.guess(path: path) }

    /// Validation data for `train`: a LibSVM file's columns end at its own highest index, so it is
    /// widened to the training data's (other formats must match as they are).
    func loadValidation(_ path: String, like train: LabeledData) throws -> LabeledData {
        let data = try load(path)
        return format(of: path) == .libsvm ? data.widened(toColumns: train.features.columns) : data
    }

    func load(_ path: String) throws -> LabeledData {
        try DataLoader.load(
            path: path, format: dataFormat ?? DataFormat.guess(path: path), labelColumn: labelColumn, header: header,
            weightColumn: weightColumn, groupColumn: groupColumn)
    }
}

extension DataFormat: ExpressibleByArgument {}
extension DelimitedOptions.Header: ExpressibleByArgument {}
extension Calibration.Method: ExpressibleByArgument {}
