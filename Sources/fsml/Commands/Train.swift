import ArgumentParser
import FsmlCore
import GBDT
import Workflows

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
            TrainOutput.print(try pipeline(parameters, experiment: experiment).run(), format: output.format)
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

    private func pipeline(_ parameters: TrainingParams, experiment: String) throws -> TrainingPipeline {
        let source: TrainingPipeline.Data
        if let path = data.data {
            source = .file(path: path) { [data, valid] in
                let train = try data.load(path)
                return (train, try valid.map { try data.loadValidation($0, like: train) })
            }
        } else {
            var request = StoreExamples.Request(configPath: global.configPath)
            request.dataset = dataset
            request.offline = offline
            request.start = try start.map { try parseTimeOption($0, "--start") }
            request.end = try end.map { try parseTimeOption($0, "--end") }
            request.views = views
            request.segments = segments.isEmpty ? nil : segments
            request.queryColumn = data.groupColumn
            source = .store(request)
        }
        var pipeline = TrainingPipeline(
            data: source, tracking: tracking.store, experiment: experiment, parameters: parameters)
        pipeline.model = model
        pipeline.runName = runName
        pipeline.validDays = validDays
        pipeline.validStart = try validStart.map { try parseTimeOption($0, "--valid-start") }
        pipeline.calibrate = calibrate
        pipeline.calibrationDays = calibrationDays
        pipeline.segments = segments
        return pipeline
    }
}
