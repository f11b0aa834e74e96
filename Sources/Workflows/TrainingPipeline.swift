import FsmlCore
import GBDT
import PointInTime
import Tracking

/// A tracked training run: data → time split → training → evaluation → everything logged (params,
/// metric histories, the model in fsml's and MLflow's layouts, importance, the dataset's manifest,
/// the evaluation and an HTML report). What `fsml train --experiment` runs; a service or a notebook
/// can run it the same way.
public struct TrainingPipeline {
    /// Where the examples come from.
    public enum Data {
        /// A plain data file, no time split: `load` reads the training and the validation data.
        case file(path: String, load: () throws -> (train: LabeledData, valid: LabeledData?))
        /// The feature store's examples, split by time.
        case store(StoreExamples.Request)
    }

    public var data: Data
    public var tracking: TrackingStore
    public var experiment: String
    public var model: ModelKind = .gbdt
    /// Parsed once (`TrainingParams.apply`); early stopping defaults to 20 rounds with validation data.
    public var parameters: TrainingParams
    /// The run's name (default: run-<id>).
    public var runName: String?
    /// Store data: the days at the end that form the validation set, unless `validStart` is given.
    public var validDays: Double = 1
    public var validStart: Micros?
    /// Store data, binary gbdt models: a calibration fitted on the `calibrationDays` before the
    /// validation rows, left out of training.
    public var calibrate: Calibration.Method?
    public var calibrationDays: Double = 1
    /// Store data: columns to report validation metrics per value of; empty: the categorical event
    /// fields fsml.yaml suggests that vary in the validation rows.
    public var segments: [String] = []

    public init(data: Data, tracking: TrackingStore, experiment: String, parameters: TrainingParams) {
        self.data = data
        self.tracking = tracking
        self.experiment = experiment
        self.parameters = parameters
    }

    /// What a finished run holds.
    public struct Outcome {
        public let run: RunWriter
        public let fitted: Fitted
        /// The final metrics logged, in order (train_*, valid_*, timings, segments).
        public let metrics: [(String, Double)]
        /// The run's HTML report, when the model was evaluated.
        public let report: String?
    }

    /// Runs the pipeline in a new run of the experiment (made when absent). A failure ends the run
    /// FAILED with the error as its `fsml.failure` tag, and is rethrown.
    public func run() throws -> Outcome {
        // A dataset that is not what its manifest says is refused before a run exists to record it.
        if case .store(let request) = data, let dataset = request.dataset {
            let m = DatasetManifest.path(forDataset: dataset)
            if FileSystem.exists(m) { try DatasetManifest.verify(dataset: dataset, manifest: m) }
        }
        let exp = try tracking.experimentCreatingIfNeeded(experiment)
        var tags = RunTags.standard()
        tags["fsml.model.kind"] = model.rawValue
        let run = try RunWriter(store: tracking, experiment: exp, name: runName, tags: tags)
        StandardError.line("run \(run.id) (\(run.name)) in experiment '\(exp.name)': \(run.directory)")
        do {
            let outcome = try train(run)
            try run.end(.finished)
            return outcome
        } catch {
            try? run.setTags(["fsml.failure": "\(error)"])
            try? run.end(.failed)
            throw error
        }
    }

    private func train(_ run: RunWriter) throws -> Outcome {
        let inputs: TrainingInputs
        switch data {
        case .file(let path, let load):
            let (train, valid) = try load()
            inputs = TrainingInputs(train: train, valid: valid, datasetPath: path)
        case .store(let request):
            inputs = try TrainingInputs.split(
                StoreExamples.load(request, buildAs: run.id), request: request, pipeline: self)
        }
        var parameters = self.parameters
        if model == .gbdt && !parameters.isGiven("early_stopping_rounds") {
            parameters.earlyStoppingRounds = inputs.valid == nil ? 0 : 20
        }
        // fsml.yaml's categories are split by set unless the parameters say otherwise.
        if parameters.categoricalFeature.isEmpty && !inputs.categoricalFeatures.isEmpty {
            parameters.categoricalFeature = "name:" + inputs.categoricalFeatures.joined(separator: ",")
        }
        try run.logParams(
            [("model", model.rawValue)] + (model == .gbdt ? parameters.asDictionary : [])
                + [("dataset", inputs.datasetPath)] + inputs.extraParams)
        var tags = ["fsml.dataset.path": inputs.datasetPath]
        if let m = inputs.manifestPath { tags["fsml.dataset.manifest_sha256"] = try SHA256.hex(ofFile: m) }
        for (f, h) in inputs.featureHashes { tags["fsml.feature_hash.\(f)"] = h }
        try run.setTags(tags)

        var fitted = try Fitting.fit(model: model, train: inputs.train, valid: inputs.valid, parameters: parameters)
        StandardError.line(fitted.summary)
        let uncalibrated = fitted.validPredictions
        if let method = calibrate, let slice = inputs.calibration {
            fitted = Fitting.calibrate(fitted, method: method, on: slice, valid: inputs.valid)
        }
        try logCurves(fitted.history, to: run)
        var final: [(String, Double)] = fitted.metricsTable.map { ("train_\(TrackingNames.metricKey($0.0))", $0.1) }
        // Models other than binary ones have no evaluation below: their validation metrics are the table's.
        if fitted.model.objective != .binary {
            final += fitted.metricsTable.compactMap { m in m.2.map { ("valid_\(TrackingNames.metricKey(m.0))", $0) } }
        }
        for (k, v) in fitted.timings {
            if case .number(let x) = v {
                final.append((k, x))
            } else if case .int(let i) = v {
                final.append((k, Double(i)))
            }
        }

        try ModelArtifact.save(fitted.model, to: run)
        var importance: [(feature: String, split: Double, gain: Double)] = []
        if case .gbdt(let m) = fitted.model {
            // MLflow's own layout of the model, so that its registry, pyfunc and `models serve` take the run.
            try MLflowModelFlavor.write(m, runID: run.id, artifacts: run.artifactsDirectory)
            importance = Fitting.importance(m)
            _ = try run.writeArtifact(Fitting.importanceCSV(m), as: "feature_importance.csv")
        }
        if let m = inputs.manifestPath { try run.logArtifact(from: m, as: "dataset.manifest.json") }

        var evaluation: EvaluationFile?
        if let valid = inputs.valid, let p = fitted.validPredictions, fitted.model.objective == .binary {
            let e = BinaryEvaluation.evaluate(predictions: p, labels: valid.labels)
            let segments = inputs.validSegments.map { column, values in
                (
                    column: column,
                    results: SegmentEvaluation.evaluate(predictions: p, labels: valid.labels, segments: values)
                )
            }
            var file = EvaluationFile(evaluation: e, segments: segments)
            final += e.metrics.map { ("valid_\($0.0)", $0.1) }
            if calibrate != nil, let before = uncalibrated {
                let raw = BinaryEvaluation.evaluate(predictions: before, labels: valid.labels)
                file.uncalibrated = raw
                final += [("valid_ece_uncalibrated", raw.ece), ("valid_logloss_uncalibrated", raw.logloss)]
            }
            for (column, results) in segments {
                for r in results {
                    let key = "segment.\(TrackingNames.keySafe(column)).\(TrackingNames.keySafe(r.value))"
                    final += [("\(key).auc", r.auc), ("\(key).rows", Double(r.rows))]
                }
            }
            _ = try run.writeArtifact(JSONText.render(file.json()) + "\n", as: "evaluation.json")
            evaluation = file
        }
        try run.logMetrics(final, step: 0)
        var reportPath: String?
        if let evaluation {
            // The report is the run's last artifact, written once training has succeeded: it states
            // how the run ends, not the RUNNING it still is while the file is written.
            var ended = run.snapshot
            ended.meta.status = .finished
            ended.meta.endTime = Int64(wallClockMicros() / 1000)
            let report = RunReport(
                run: ended, learningCurves: Self.curves(fitted.history), evaluation: evaluation,
                importance: importance, manifest: try inputs.manifestPath.map { try FileSystem.readText($0) })
            reportPath = try run.writeArtifact(report.html(), as: "report.html")
        }
        return Outcome(run: run, fitted: fitted, metrics: final, report: reportPath)
    }

    /// One metric file per series, for learning curves in the report and in MLflow.
    private func logCurves(_ history: [IterationRecord], to run: RunWriter) throws {
        for m in history.first?.train.map(\.metric) ?? [] {
            try run.logMetricHistory(
                "iter_train_\(TrackingNames.metricKey(m.rawValue))",
                history.compactMap { r in r.train.first { $0.metric == m }.map { (r.iteration, $0.value) } })
            try run.logMetricHistory(
                "iter_valid_\(TrackingNames.metricKey(m.rawValue))",
                history.compactMap { r in r.valid.first { $0.metric == m }.map { (r.iteration, $0.value) } })
        }
    }

    static func curves(
        _ history: [IterationRecord]
    ) -> [(metric: String, train: [(x: Double, y: Double)], valid: [(x: Double, y: Double)])] {
        (history.first?.train.map(\.metric) ?? []).map { m in
            (
                m.rawValue,
                history.compactMap { r in r.train.first { $0.metric == m }.map { (Double(r.iteration), $0.value) } },
                history.compactMap { r in r.valid.first { $0.metric == m }.map { (Double(r.iteration), $0.value) } }
            )
        }
    }
}
