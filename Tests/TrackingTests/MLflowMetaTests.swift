import Foundation
import Testing

@testable import Tracking

@Suite struct MLflowMetaTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static let run = RunMeta(
        runID: "30f0d34726ea459094224126a619c658", runName: "gbdt 'baseline'", experimentID: "140683685690563470",
        artifactURI: "file:///abs/experiments/140683685690563470/30f0d34726ea459094224126a619c658/artifacts",
        startTime: 1_795_598_120_039, endTime: 1_795_598_120_048, status: .finished, userID: "root")

    @Test func runMetaMatchesTheGoldenFileAndReadsBack() throws {
        let text = Self.run.yaml()
        #expect(text == (try String(contentsOf: Self.golden.appendingPathComponent("run-meta.yaml"), encoding: .utf8)))
        #expect(try RunMeta(yaml: text, file: "meta.yaml") == Self.run)
    }

    @Test func experimentMetaMatchesTheGoldenFile() throws {
        let e = ExperimentMeta(
            id: "140683685690563470", name: "fsml-demo", artifactLocation: "file:///abs/experiments/140683685690563470",
            creationTime: 1_795_598_120_000, lastUpdateTime: 1_795_598_120_000)
        let text = e.yaml()
        #expect(
            text
                == (try String(contentsOf: Self.golden.appendingPathComponent("experiment-meta.yaml"), encoding: .utf8))
        )
        #expect(try ExperimentMeta(yaml: text, file: "meta.yaml") == e)
    }

    /// What MLflow 3.17.2 itself writes (../shared/FORMATS.md §1.2–1.3): plain scalars, null end
    /// time, extra keys.
    @Test func readsMetaThatMLflowWrote() throws {
        let run = try RunMeta(
            yaml: """
                artifact_uri: file:///abs/mlruns/1/abc/artifacts
                end_time: null
                entry_point_name: ''
                experiment_id: '1'
                lifecycle_stage: active
                run_id: abc
                run_name: gbdt-baseline
                source_type: 4
                start_time: 1795598120039
                tags: []
                user_id: root
                """, file: "meta.yaml")
        #expect(run.runName == "gbdt-baseline" && run.experimentID == "1" && run.endTime == nil)
        #expect(run.status == .running)  // MLflow's reader default
        let e = try ExperimentMeta(
            yaml:
                "artifact_location: mlflow-artifacts:/0\ncreation_time: 1\nexperiment_id: '0'\nlast_update_time: 1\nlifecycle_stage: active\nname: Default\nworkspace: default\n",
            file: "meta.yaml")
        #expect(e.id == "0" && e.name == "Default")
    }

    @Test func metricLinesAreTimestampValueStep() throws {
        #expect(
            MetricHistory.line(MetricPoint(timestamp: 1_795_598_120_044, value: 0.71, step: 1))
                == "1795598120044 0.71 1\n")
        #expect(MetricHistory.line(MetricPoint(timestamp: 5, value: .nan, step: 0)) == "5 nan 0\n")
        let points = try MetricHistory.parse("10 0.5 3\n11 0.7 2\n12 0.9\n", file: "m")
        #expect(points.map(\.step) == [3, 2, 0])
        // MLflow's latest is the highest step, not the last line.
        #expect(MetricHistory.latest(points)?.value == 0.5)
        #expect(throws: TrackingError.self) { try MetricHistory.parse("10 0.5 3 4\n", file: "m") }
    }
}
