import Foundation
import FsmlCore
import GBDT
import Testing
import Tracking

@testable import Workflows

@Suite struct TrainingPipelineTests {
    /// Rows whose label is x0 > 0.5, apart from a tenth flipped (so the fit is good, not perfect),
    /// and two features of noise.
    static func data(rows: Int, seed: UInt64) -> LabeledData {
        var random = SeededRandom(seed: seed)
        var values: [Float] = []
        var labels: [Float] = []
        for _ in 0..<rows {
            let x = (0..<3).map { _ in Float(random.uniform()) }
            values += x
            let flipped = random.uniform() < 0.1
            labels.append((x[0] > 0.5) != flipped ? 1 : 0)
        }
        return LabeledData(
            features: DenseMatrix(rows: rows, columns: 3, values: values, featureNames: ["x0", "x1", "x2"]),
            labels: labels)
    }

    static func temporaryStore() throws -> (TrackingStore, String) {
        let root = NSTemporaryDirectory() + "fsml-pipeline-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        return (TrackingStore(root: root), root)
    }

    @Test func aFileRunLogsTheParametersTheLearnerGotAndItsMetrics() throws {
        let (store, root) = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var parameters = TrainingParams()
        try parameters.apply(["eta=0.2", "num_iterations=15", "max_leaves=7"])
        let pipeline = TrainingPipeline(
            data: .file(path: "in-memory") { (Self.data(rows: 2000, seed: 1), Self.data(rows: 1000, seed: 2)) },
            tracking: store, experiment: "pipeline", parameters: parameters)
        let outcome = try pipeline.run()

        let run = try store.findRun(outcome.run.id)
        #expect(run.meta.status == .finished)
        #expect(run.experimentName == "pipeline")
        // XGBoost's names arrive under LightGBM's; early stopping is on with validation data.
        #expect(run.params["learning_rate"] == "0.2")
        #expect(run.params["num_leaves"] == "7")
        #expect(run.params["early_stopping_rounds"] == "20")
        #expect(run.params["dataset"] == "in-memory")
        #expect(run.params["model"] == "gbdt")
        // A tenth of the labels flipped at random: the best AUC is about 0.9, and the trees get near it.
        let auc = try #require(run.metrics["valid_auc"])
        #expect(auc > 0.85 && auc < 0.95)
        // The model keeps the trees up to its best iteration on the validation data.
        let trees = try #require(run.metrics["trees"])
        #expect(trees >= 1 && trees <= 15 && trees == run.metrics["best_iteration"])
        #expect(FileManager.default.fileExists(atPath: run.artifactsDirectory + "/" + ModelArtifact.fileName))
        #expect(FileManager.default.fileExists(atPath: run.artifactsDirectory + "/feature_importance.csv"))
        #expect(try store.metricHistory(run, key: "iter_valid_auc").count == 15)
        #expect(outcome.report.map { FileManager.default.fileExists(atPath: $0) } == true)
    }

    @Test func aFailureEndsTheRunFailedWithItsReason() throws {
        struct Unreadable: Error, CustomStringConvertible { var description: String { "the file is gone" } }
        let (store, root) = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let pipeline = TrainingPipeline(
            data: .file(path: "missing.csv") { throw Unreadable() }, tracking: store, experiment: "pipeline",
            parameters: TrainingParams())
        #expect(throws: Unreadable.self) { try pipeline.run() }
        let runs = store.runs()
        #expect(runs.count == 1)
        #expect(runs.first?.meta.status == .failed)
        #expect(runs.first?.tags["fsml.failure"] == "the file is gone")
    }

    @Test func theLogisticBaselineIsTrackedToo() throws {
        let (store, root) = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var pipeline = TrainingPipeline(
            data: .file(path: "in-memory") { (Self.data(rows: 1000, seed: 3), Self.data(rows: 500, seed: 4)) },
            tracking: store, experiment: "baseline", parameters: TrainingParams())
        pipeline.model = .logistic
        let run = try store.findRun(try pipeline.run().run.id)
        #expect(run.params["model"] == "logistic")
        #expect(run.params["learning_rate"] == nil)
        #expect(run.tags["fsml.model.kind"] == "logistic")
        #expect((run.metrics["valid_auc"] ?? 0) > 0.85)
    }
}
