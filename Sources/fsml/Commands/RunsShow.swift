import ArgumentParser
import Foundation
import FsmlCore
import Tracking

struct RunsShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one run: its record, params, metrics, tags and artifacts.")

    @Argument(help: ArgumentHelp("The run.", valueName: "run")) var reference: String
    @Option(help: "Look only in this experiment.") var experiment: String?
    @OptionGroup var tracking: TrackingOptions
    @OptionGroup var output: FormatOption

    func run() throws {
        let store = tracking.store
        let r = try store.findRun(reference, experiment: experiment)
        let e = try store.experiment(id: r.meta.experimentID)
        let aliases = store.aliases(e).filter { $0.value == r.id }.keys.sorted()
        let artifacts = RunsOutput.artifacts(r.artifactsDirectory)
        switch output.format {
        case .json:
            var json = RunsOutput.json(r, aliases: aliases)
            if case .object(var fields) = json {
                fields.append(("artifacts", .array(artifacts.map { .string($0) })))
                json = .object(fields)
            }
            StandardOutput.write(JSONText.render(json) + "\n")
        case .table:
            var out = "run \(r.id)\n"
            out += "  name        \(r.name)\n  experiment  \(r.experimentName) (\(r.meta.experimentID))\n"
            out += "  status      \(r.meta.status.name)\n  started     \(RunsOutput.time(r.meta.startTime))\n"
            out += "  duration    \(RunsOutput.duration(r))\n  folder      \(r.directory)\n"
            if !aliases.isEmpty { out += "  aliases     \(aliases.joined(separator: ", "))\n" }
            if r.meta.lifecycleStage != "active" { out += "  stage       \(r.meta.lifecycleStage)\n" }
            StandardOutput.write(out + "\n")
            var params = TextTable(["PARAM", "VALUE"])
            for k in r.params.keys.sorted() { params.add([k, r.params[k]!]) }
            var metrics = TextTable(["METRIC", "VALUE"], rightAligned: [1])
            for k in r.metrics.keys.sorted() where !k.hasPrefix("iter_") {
                metrics.add([k, MetricText.format(r.metrics[k])])
            }
            var tags = TextTable(["TAG", "VALUE"])
            for k in r.tags.keys.sorted() where !k.hasPrefix("fsml.feature_hash.") { tags.add([k, r.tags[k]!]) }
            StandardOutput.write(params.render() + "\n" + metrics.render() + "\n" + tags.render() + "\n")
            StandardOutput.write("artifacts:\n" + artifacts.map { "  \($0)\n" }.joined())
        }
    }
}
