import ArgumentParser
import FeatureCore
import FsmlCore
import GBDT
import PointInTime
import Tracking
import Workflows

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a tracked run's model on another dataset (a backtest) and log the result to the run.",
        discussion: """
            Metrics are logged to the run as NAME_auc, NAME_logloss, ...; the full evaluation and its report go to \
            the run's artifacts under evaluations/NAME.
            """
    )

    @Argument(help: ArgumentHelp("The run (id, id prefix or name).", valueName: "run")) var reference: String
    @Option(help: "A dataset from `fsml build` (.parquet).") var dataset: String
    @Option(help: "The name the result is logged under (default: the dataset's file name).") var name: String?
    @Option(help: "Look only in this experiment.") var experiment: String?
    @Option(
        name: .customLong("segment"),
        help: """
            A dataset column to report metrics per value of (repeatable; default: the categorical event fields \
            other than keys and ids that have 2 to 20 values in the dataset).
            """)
    var segments: [String] = []
    @OptionGroup var tracking: TrackingOptions
    @OptionGroup var output: FormatOption
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let store = tracking.store
        let r = try store.findRun(reference, experiment: experiment)
        let modelPath = r.artifactsDirectory + "/model.json"
        guard FileSystem.exists(modelPath) else { throw CLIError("run \(r.id) has no model artifact (model.json)") }
        let model = try AnyModel.load(path: modelPath)
        let registry = try global.loadRegistry()
        let label = registry.label?.name ?? "label"
        // A column named twice is reported once.
        var seen: Set<String> = []
        var segmentColumns = (segments.isEmpty ? DatasetSegments.candidates(registry) : segments).filter {
            seen.insert($0).inserted
        }
        let table = try DatasetReader.load(
            path: dataset, features: model.featureNames, label: label, time: registry.schema.timeFieldName,
            segments: segmentColumns)
        guard table.rows > 0 else { throw CLIError("\(dataset) has no rows") }
        if segments.isEmpty { segmentColumns = DatasetSegments.reported(segmentColumns, in: table) }
        let predictions = model.predict(table.labeledData.features)
        let evaluation = BinaryEvaluation.evaluate(predictions: predictions, labels: table.labels)
        let segmentResults = segmentColumns.compactMap { c in
            table.segments[c].map {
                (
                    column: c,
                    results: SegmentEvaluation.evaluate(predictions: predictions, labels: table.labels, segments: $0)
                )
            }
        }
        let file = EvaluationFile(evaluation: evaluation, segments: segmentResults)
        let base = name ?? String(dataset.split(separator: "/").last!.replacingOccurrences(of: ".parquet", with: ""))
        let key = TrackingNames.keySafe(base)
        let logged = evaluation.metrics.map { ("\(key)_\($0.0)", $0.1) }
        try store.logMetrics(r, logged)
        _ = try store.writeArtifact(r, JSONText.render(file.json()) + "\n", as: "evaluations/\(key).json")
        var updated = try store.run(id: r.id, experimentID: r.meta.experimentID)
        updated.params["evaluated_dataset"] = dataset
        let report = RunReport(
            run: updated, learningCurves: [], evaluation: file, importance: [],
            manifest: try? FileSystem.readText(DatasetManifest.path(forDataset: dataset)),
            title: "Backtest \(base) of run \(r.name)")
        let reportPath = try store.writeArtifact(r, report.html(), as: "evaluations/\(key).html")
        switch output.format {
        case .json:
            StandardOutput.write(
                JSONText.render(
                    .object([
                        ("run_id", .string(r.id)), ("name", .string(key)), ("report", .string(reportPath)),
                        ("metrics", .object(logged.map { ($0.0, .number($0.1)) })),
                    ])) + "\n")
        case .table:
            var t = TextTable(["METRIC", "VALUE"], rightAligned: [1])
            for (k, v) in logged { t.add([k, MetricText.format(v)]) }
            StandardOutput.write(
                "run \(r.id) (\(r.name)) on \(dataset): \(Progress.count(table.rows)) rows\n" + t.render())
            StandardOutput.write("report: \(reportPath)\n")
        }
    }
}
