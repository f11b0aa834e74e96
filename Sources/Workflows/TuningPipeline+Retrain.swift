import FsmlCore
import GBDT
import PointInTime
import Tracking

extension TuningPipeline {
    /// The best parameters trained on every row, for the number of rounds early stopping kept on
    /// average over the folds, logged as a run of its own (a child of the study).
    func retrain(
        _ winner: TrialResult, base: TrainingParams, table: DatasetTable, examples: StoreExamples,
        parent: RunWriter, store: TrackingStore, metricName: String
    ) throws -> RunRecord {
        var params = try Study.parameters(base: base, assignments: winner.assignments)
        let rounds = winner.foldBestIterations.reduce(0, +) / max(1, winner.foldBestIterations.count)
        params.numIterations = max(1, rounds)
        params.earlyStoppingRounds = 0
        params.numThreads = 0
        var tags = RunTags.standard()
        tags["mlflow.parentRunId"] = parent.id
        tags["fsml.tune.role"] = "best"
        tags["fsml.model.kind"] = "gbdt"
        tags["fsml.dataset.path"] = examples.datasetPath
        if let m = examples.manifestPath { tags["fsml.dataset.manifest_sha256"] = try SHA256.hex(ofFile: m) }
        for (f, h) in examples.featureHashes { tags["fsml.feature_hash.\(f)"] = h }
        let run = try RunWriter(store: store, experiment: parent.experiment, name: "\(parent.name)-best", tags: tags)
        do {
            StandardError.line(
                "retraining trial \(winner.number)'s parameters on all \(Progress.count(table.rows)) rows for \(params.numIterations) rounds: run \(run.id)"
            )
            try run.logParams(
                [("model", "gbdt")] + params.asDictionary
                    + [
                        ("dataset", examples.datasetPath), ("train_rows", "\(table.rows)"),
                        ("tune.trial", "\(winner.number)"),
                    ])
            let data = table.labeledData
            let fitted = try Fitting.fit(model: .gbdt, train: data, valid: nil, parameters: params)
            StandardError.line(fitted.summary)
            try ModelArtifact.save(fitted.model, to: run)
            if case .gbdt(let m) = fitted.model {
                _ = try run.writeArtifact(Fitting.importanceCSV(m), as: "feature_importance.csv")
            }
            if let m = examples.manifestPath { try run.logArtifact(from: m, as: "dataset.manifest.json") }
            try run.logMetrics(
                fitted.metricsTable.map { ("train_\(TrackingNames.metricKey($0.0))", $0.1) } + [
                    ("cv_\(metricName)", winner.value)
                ], step: 0)
            try run.end(.finished)
        } catch {
            try? run.end(.failed)
            throw error
        }
        return run.snapshot
    }
}
