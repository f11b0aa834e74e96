import ArgumentParser
import FeatureCore
import FsmlCore
import GBDT
import OfflineStorage
import Parquet
import PointInTime
import Tracking

/// `fsml train --experiment`: data → time split → training → evaluation → everything logged.
struct TrackedTraining {
    let command: Train
    var parameters: TrainingParams
    let experiment: String

    /// What the model trains and is judged on.
    struct Inputs {
        var train: LabeledData
        var valid: LabeledData?
        var validSegments: [(String, [String?])] = []
        var datasetPath: String
        var manifestPath: String?
        var extraParams: [(String, String)] = []
        /// The held-out slice a calibration is fitted on (`--calibrate`), between training and validation.
        var calibration: LabeledData?
        var featureHashes: [String: String] = [:]
        /// Features fsml.yaml defines as categories.
        var categoricalFeatures: [String] = []
    }

    func run() throws {
        // A dataset that is not what its manifest says is refused before a run exists to record it.
        if command.data.data == nil, let dataset = command.dataset {
            let m = DatasetManifest.path(forDataset: dataset)
            if FileSystem.exists(m) { try DatasetManifest.verify(dataset: dataset, manifest: m) }
        }
        let store = command.tracking.store
        let exp = try store.experimentCreatingIfNeeded(experiment)
        var tags = RunTags.standard()
        tags["fsml.model.kind"] = command.model.rawValue
        let run = try RunWriter(store: store, experiment: exp, name: command.runName, tags: tags)
        StandardError.line("run \(run.id) (\(run.name)) in experiment '\(exp.name)': \(run.directory)")
        do {
            let printResult = try train(run)
            // The run is over before anything is printed: a closed stdout must not leave it unfinished.
            try run.end(.finished)
            printResult()
        } catch {
            try? run.setTags(["fsml.failure": "\(error)"])
            try? run.end(.failed)
            throw error
        }
    }

    private func train(_ run: RunWriter) throws -> () -> Void {
        let inputs = try command.data.data.map { try fileInputs($0) } ?? storeInputs(run)
        var parameters = self.parameters
        if command.model == .gbdt && !parameters.isGiven("early_stopping_rounds") {
            parameters.earlyStoppingRounds = inputs.valid == nil ? 0 : 20
        }
        // fsml.yaml's categories are split by set unless the command says otherwise.
        if parameters.categoricalFeature.isEmpty && !inputs.categoricalFeatures.isEmpty {
            parameters.categoricalFeature = "name:" + inputs.categoricalFeatures.joined(separator: ",")
        }
        try run.logParams(
            [("model", command.model.rawValue)] + (command.model == .gbdt ? parameters.asDictionary : [])
                + [("dataset", inputs.datasetPath)] + inputs.extraParams)
        var tags = ["fsml.dataset.path": inputs.datasetPath]
        if let m = inputs.manifestPath { tags["fsml.dataset.manifest_sha256"] = try SHA256.hex(ofFile: m) }
        for (f, h) in inputs.featureHashes { tags["fsml.feature_hash.\(f)"] = h }
        try run.setTags(tags)

        var fitted = try Fitting.fit(
            model: command.model, train: inputs.train, valid: inputs.valid, parameters: parameters)
        StandardError.line(fitted.summary)
        let uncalibrated = fitted.validPredictions
        if let method = command.calibrate, let slice = inputs.calibration {
            fitted = Fitting.calibrate(fitted, method: method, on: slice, valid: inputs.valid)
        }
        // Curves: one metric file per series, for learning curves in the report and in MLflow.
        for m in fitted.history.first?.train.map(\.metric) ?? [] {
            try run.logMetricHistory(
                "iter_train_\(TrackingNames.metricKey(m.rawValue))",
                fitted.history.compactMap { r in r.train.first { $0.metric == m }.map { (r.iteration, $0.value) } })
            try run.logMetricHistory(
                "iter_valid_\(TrackingNames.metricKey(m.rawValue))",
                fitted.history.compactMap { r in r.valid.first { $0.metric == m }.map { (r.iteration, $0.value) } })
        }
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
            evaluation = EvaluationFile(evaluation: e, segments: segments)
            final += e.metrics.map { ("valid_\($0.0)", $0.1) }
            if command.calibrate != nil, let before = uncalibrated {
                let raw = BinaryEvaluation.evaluate(predictions: before, labels: valid.labels)
                evaluation?.uncalibrated = raw
                final += [("valid_ece_uncalibrated", raw.ece), ("valid_logloss_uncalibrated", raw.logloss)]
            }
            for (column, results) in segments {
                for r in results {
                    let key = "segment.\(TrackingNames.keySafe(column)).\(TrackingNames.keySafe(r.value))"
                    final += [("\(key).auc", r.auc), ("\(key).rows", Double(r.rows))]
                }
            }
            _ = try run.writeArtifact(JSONText.render(evaluation!.json()) + "\n", as: "evaluation.json")
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
        return { [self] in print(run: run, fitted: fitted, final: final, report: reportPath) }
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

    private func print(run: RunWriter, fitted: Fitted, final: [(String, Double)], report: String?) {
        let shown = final.filter { !$0.0.hasPrefix("segment.") }
        switch command.output.format {
        case .json:
            StandardOutput.write(
                JSONText.render(
                    .object([
                        ("run_id", .string(run.id)), ("run_name", .string(run.name)),
                        ("experiment", .string(run.experiment.name)), ("directory", .string(run.directory)),
                        ("report", report.map { .string($0) } ?? .null),
                        ("metrics", .object(final.map { ($0.0, .number($0.1)) })),
                    ])) + "\n")
        case .table:
            StandardOutput.write("run \(run.id) (\(run.name)) in experiment '\(run.experiment.name)'\n")
            var table = TextTable(["METRIC", "VALUE"], rightAligned: [1])
            for (k, v) in shown {
                table.add([k, v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : Progress.fixed(v, 6)])
            }
            StandardOutput.write(table.render())
            if let report { StandardOutput.write("report: \(report)\n") }
        }
    }

    // MARK: inputs

    /// `--data FILE [--valid FILE]`: a plain data file, no time split.
    private func fileInputs(_ path: String) throws -> Inputs {
        let train = try command.data.load(path)
        let valid = try command.valid.map { try command.data.loadValidation($0, like: train) }
        return Inputs(train: train, valid: valid, datasetPath: path)
    }

    /// The feature store's examples: `--dataset`, or a dataset built now from the offline store.
    private func storeInputs(_ run: RunWriter) throws -> Inputs {
        let examples = try StoreExamples.load(
            global: command.global, dataset: command.dataset, offline: command.offline, start: command.start,
            end: command.end, views: command.views,
            segments: command.segments.isEmpty ? nil : command.segments, queryColumn: command.data.groupColumn,
            buildAs: run.id)
        let (table, datasetPath, manifestPath) = (examples.table, examples.datasetPath, examples.manifestPath)
        var segmentColumns = examples.segmentColumns
        let split =
            try command.validStart.map { TimeSplit.at(table.times, start: try Self.time($0, "--valid-start")) }
            ?? TimeSplit.lastDays(table.times, validDays: command.validDays)
        guard !split.train.isEmpty, !split.valid.isEmpty else {
            throw CLIError(
                "the time split at \(Timestamp.format(split.start)) leaves \(split.train.count) training and \(split.valid.count) validation rows; give --valid-days or --valid-start"
            )
        }
        StandardError.line(
            "split by time at \(Timestamp.format(split.start)): \(Progress.count(split.train.count)) training rows before, \(Progress.count(split.valid.count)) validation rows from then on"
        )
        var trainRows = split.train
        var calibrationRows: [Int] = []
        if command.calibrate != nil {
            let cut = TimeSplit.lastDays(trainRows.map { table.times[$0] }, validDays: command.calibrationDays)
            calibrationRows = cut.valid.map { trainRows[$0] }
            trainRows = cut.train.map { trainRows[$0] }
            guard !trainRows.isEmpty, !calibrationRows.isEmpty else {
                throw CLIError(
                    "the calibration slice at \(Timestamp.format(cut.start)) leaves \(trainRows.count) training and \(calibrationRows.count) calibration rows; give --calibration-days"
                )
            }
            StandardError.line(
                "calibration slice from \(Timestamp.format(cut.start)): \(Progress.count(calibrationRows.count)) rows held out of training"
            )
        }
        // Ranking: the rows of each query together (in time order within it), the queries' sizes kept.
        var trainSizes: [Int]?
        var validSizes: [Int]?
        var validRows = split.valid
        if let q = command.data.groupColumn, let ids = table.segments[q] {
            (trainRows, trainSizes) = QueryOrder.of(trainRows) { ids[$0] }
            (validRows, validSizes) = QueryOrder.of(validRows) { ids[$0] }
        } else if parameters.objective.isRanking {
            throw CLIError(
                "\(parameters.objective.rawValue) ranks examples within queries: give --group-column, a dataset column such as an entity key"
            )
        }
        let train = table.subset(trainRows)
        let valid = table.subset(validRows)
        if command.segments.isEmpty { segmentColumns = DatasetSegments.reported(segmentColumns, in: valid) }
        var labeledTrain = Self.labeled(train)
        var labeledValid = Self.labeled(valid)
        labeledTrain.groups = trainSizes
        labeledValid.groups = validSizes
        var inputs = Inputs(
            train: labeledTrain, valid: labeledValid,
            validSegments: segmentColumns.compactMap { c in valid.segments[c].map { (c, $0) } },
            datasetPath: datasetPath, manifestPath: manifestPath)
        if !calibrationRows.isEmpty { inputs.calibration = Self.labeled(table.subset(calibrationRows)) }
        inputs.extraParams =
            [
                ("valid_start", Timestamp.format(split.start)), ("train_rows", String(trainRows.count)),
                ("valid_rows", String(split.valid.count)), ("features", String(table.featureNames.count)),
            ] + (command.views.map { [("views", $0)] } ?? [])
            + (command.calibrate.map {
                [("calibration", $0.rawValue), ("calibration_rows", String(calibrationRows.count))]
            } ?? [])
        inputs.featureHashes = examples.featureHashes
        inputs.categoricalFeatures = table.featureNames.filter { name in
            examples.registry.featureIndex(name).map(examples.registry.isCategorical) ?? false
        }
        return inputs
    }

    static func labeled(_ t: DatasetTable) -> LabeledData {
        let columns = t.featureNames.count
        var values = [Float](repeating: .nan, count: t.rows * columns)
        for c in 0..<columns {
            let column = t.features[c]
            for r in 0..<t.rows { values[r * columns + c] = Float(column[r]) }
        }
        return LabeledData(
            features: DenseMatrix(rows: t.rows, columns: columns, values: values, featureNames: t.featureNames),
            labels: t.labels)
    }

    static func time(_ text: String, _ option: String) throws -> Micros {
        switch Timestamp.parseDateOrTime(text) {
        case .success(let t): return t
        case .failure(let e): throw ValidationError("\(option): \(e)")
        }
    }
}
