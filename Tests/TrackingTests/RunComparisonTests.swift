import Testing

@testable import Tracking

@Suite struct RunComparisonTests {
    static func run(_ id: String, params: [String: String], metrics: [String: Double], start: Int64) -> RunRecord {
        var r = RunRecord(
            meta: RunMeta(
                runID: id, runName: "r-\(id)", experimentID: "1", artifactURI: "", startTime: start, userID: "u"),
            experimentName: "ctr", directory: "/nowhere")
        r.params = params
        r.metrics = metrics
        return r
    }

    static let runs = [
        run(
            "a", params: ["lr": "0.1", "leaves": "31"],
            metrics: ["valid_auc": 0.70, "valid_logloss": 0.40, "trees": 50], start: 1),
        run(
            "b", params: ["lr": "0.05", "leaves": "31"],
            metrics: ["valid_auc": 0.72, "valid_logloss": 0.42, "trees": 90], start: 2),
        run(
            "c", params: ["lr": "0.05", "leaves": "31", "seed": "3"],
            metrics: ["valid_auc": 0.72, "iter_valid_auc": 0.9], start: 3),
    ]

    @Test func paramsThatDifferAndTheBestPerMetric() {
        let c = RunComparison(runs: Self.runs)
        #expect(c.differingParams == ["lr", "seed"])
        #expect(c.metrics == ["trees", "valid_auc", "valid_logloss"])  // iter_ curves left out
        #expect(c.best["valid_auc"] == [1, 2])  // ties share the mark
        #expect(c.best["valid_logloss"] == [0])  // lower is better for a loss
        #expect(c.best["trees"] == nil)  // neither direction is better
    }

    @Test func onlyHeldOutResultsThatSetRunsApartAreMarked() {
        let runs = [
            Self.run(
                "a", params: [:], metrics: ["train_auc": 0.9, "valid_ece": 0.01, "training_seconds": 3], start: 1),
            Self.run(
                "b", params: [:], metrics: ["train_auc": 0.8, "valid_ece": 0.01, "training_seconds": 4], start: 2),
        ]
        let c = RunComparison(runs: runs)
        #expect(c.best["train_auc"] == nil)  // the fit on training rows is no result
        #expect(c.best["training_seconds"] == nil)  // a cost
        #expect(c.best["valid_ece"] == nil)  // a tie between every run
    }

    @Test func topRanksByTheMetricsDirectionAndPutsRunsWithoutItLast() {
        #expect(RunComparison.top(Self.runs, metric: "valid_auc", n: 2).map(\.id) == ["c", "b"])
        #expect(RunComparison.top(Self.runs, metric: "valid_logloss", n: 3).map(\.id) == ["a", "b", "c"])
        #expect(MetricDirection(metric: "valid_brier") == .lower)
        #expect(MetricDirection(metric: "valid_lift_at_100") == .higher)
    }
}
