import FsmlCore
import Workflows

/// What `fsml train --experiment` prints once its run is over: the run and its final metrics
/// (segments' only in JSON), and where its report is.
enum TrainOutput {
    static func print(_ outcome: TrainingPipeline.Outcome, format: OutputFormat) {
        let run = outcome.run
        switch format {
        case .json:
            StandardOutput.write(
                JSONText.render(
                    .object([
                        ("run_id", .string(run.id)), ("run_name", .string(run.name)),
                        ("experiment", .string(run.experiment.name)), ("directory", .string(run.directory)),
                        ("report", outcome.report.map { .string($0) } ?? .null),
                        ("metrics", .object(outcome.metrics.map { ($0.0, .number($0.1)) })),
                    ])) + "\n")
        case .table:
            StandardOutput.write("run \(run.id) (\(run.name)) in experiment '\(run.experiment.name)'\n")
            var table = TextTable(["METRIC", "VALUE"], rightAligned: [1])
            for (k, v) in outcome.metrics where !k.hasPrefix("segment.") {
                table.add([k, v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : Progress.fixed(v, 6)])
            }
            StandardOutput.write(table.render())
            if let report = outcome.report { StandardOutput.write("report: \(report)\n") }
        }
    }
}
