import FsmlCore
import GBDT
import Tracking
import Workflows

/// What `fsml tune` prints once its study is over: the best trial and its parameters, the promoted
/// run, where the report is.
enum TuneOutput {
    static func print(_ o: TuningPipeline.Outcome, format: OutputFormat) {
        let (s, parent) = (o.summary, o.study)
        let best = s.best!
        switch format {
        case .json:
            StandardOutput.write(
                JSONText.render(
                    .object([
                        ("run_id", .string(parent.id)), ("run_name", .string(parent.name)),
                        ("experiment", .string(parent.experiment.name)), ("report", .string(o.report)),
                        ("metric", .string(s.metric)), ("best_value", .number(best.value)),
                        ("best_trial", .int(best.number)),
                        ("best_params", .object(best.assignments.map { ($0.name, .string($0.value)) })),
                        ("best_run_id", s.runIDs[best.number].map { .string($0) } ?? .null),
                        ("baseline_value", s.baseline.flatMap { $0.isFinite ? .number($0) : nil } ?? .null),
                        ("trials", .int(s.trials.count)), ("pruned", .int(s.pruned)), ("seconds", .number(s.seconds)),
                        ("promoted_run_id", o.promoted.map { .string($0.run.id) } ?? .null),
                        ("trial_values", .array(s.trials.map { $0.value.isFinite ? .number($0.value) : .null })),
                    ])) + "\n")
        case .table:
            StandardOutput.write("study \(parent.id) (\(parent.name)) in experiment '\(parent.experiment.name)'\n")
            StandardOutput.write(StudyReport.headline(s) + "\n")
            var table = TextTable(["PARAMETER", "BEST"])
            for a in best.assignments { table.add([a.name, a.value]) }
            StandardOutput.write(table.render())
            if let p = o.promoted { StandardOutput.write("\(p.alias) → run \(p.run.id) (\(p.run.name))\n") }
            StandardOutput.write("report: \(o.report)\n")
        }
    }
}
