import ArgumentParser
import Foundation
import FsmlCore
import Tracking

struct RunsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List runs, newest first.")

    @Option(help: "Only this experiment (name or id).") var experiment: String?
    @Option(help: "Metrics to show as columns (comma-separated).") var metrics: String = "valid_auc,valid_logloss"
    @Flag(help: "Include deleted runs.") var all = false
    @OptionGroup var tracking: TrackingOptions
    @OptionGroup var output: FormatOption

    func run() throws {
        let store = tracking.store
        let scope = try experiment.map { try store.experiment($0) }
        let runs = store.runs(experiment: scope, includeDeleted: all)
        var aliasesOf: [String: [String]] = [:]
        for e in scope.map({ [$0] }) ?? store.experiments() {
            for (alias, id) in store.aliases(e) { aliasesOf[id, default: []].append(alias) }
        }
        let metricNames = metrics.split(separator: ",").map(String.init)
        switch output.format {
        case .json:
            StandardOutput.write(
                JSONText.render(.array(runs.map { RunsOutput.json($0, aliases: aliasesOf[$0.id] ?? []) })) + "\n")
        case .table:
            var table = TextTable(
                ["RUN", "NAME", "EXPERIMENT", "STATUS", "STARTED", "DURATION"] + metricNames.map { $0.uppercased() }
                    + ["ALIASES"], rightAligned: Set(5..<(6 + metricNames.count)))
            for r in runs {
                table.add(
                    [
                        String(r.id.prefix(8)), r.name, r.experimentName, r.meta.status.name,
                        RunsOutput.time(r.meta.startTime), RunsOutput.duration(r),
                    ] + metricNames.map { MetricText.format(r.metrics[$0]) }
                        + [(aliasesOf[r.id] ?? []).sorted().joined(separator: ",")])
            }
            StandardOutput.write(table.render())
            StandardError.line("\(runs.count) run\(runs.count == 1 ? "" : "s") in \(store.root)")
        }
    }
}
