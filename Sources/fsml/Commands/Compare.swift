import ArgumentParser
import FsmlCore
import GBDT
import Tracking

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare tracked runs.", subcommands: [CompareRuns.self])
}

struct CompareRuns: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Runs side by side: the params that differ, every metric, the best value per metric marked (*).",
        discussion: "Without RUN arguments, the --top runs of --experiment by --metric.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, markdown }

    @Argument(help: "Runs (ids, id prefixes or names).") var runs: [String] = []
    @Option(help: "The experiment to take runs from.") var experiment: String?
    @Option(help: "How many runs, best first, when no RUN is given.") var top: Int = 5
    @Option(help: "The metric that ranks runs for --top.") var metric: String = "valid_auc"
    @Option(help: "Only these metrics (comma-separated; default: all but per-iteration curves).") var metrics: String?
    @Option(help: "table, json or markdown.") var format: Format = .table
    @Option(help: "Also write an HTML comparison with overlaid ROC and learning curves.") var html: String?
    @OptionGroup var tracking: TrackingOptions

    func validate() throws {
        if runs.isEmpty && experiment == nil { throw ValidationError("give RUN arguments or --experiment NAME") }
        if top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let store = tracking.store
        let chosen: [RunRecord]
        if runs.isEmpty {
            let e = try store.experiment(experiment!)
            chosen = RunComparison.top(store.runs(experiment: e), metric: metric, n: top)
            if chosen.isEmpty { throw CLIError("experiment '\(e.name)' has no runs") }
        } else {
            chosen = try runs.map { try store.findRun($0, experiment: experiment) }
        }
        let comparison = RunComparison(
            runs: chosen, metrics: metrics.map { $0.split(separator: ",").map(String.init) })
        StandardOutput.write(render(comparison))
        if let html {
            try FileSystem.writeAtomically(try comparison.html(store: store), to: html)
            StandardError.line("wrote \(html)")
        }
    }

    func render(_ c: RunComparison) -> String {
        switch format {
        case .json: return JSONText.render(c.json) + "\n"
        case .markdown: return c.markdown
        case .table:
            let names = c.runs.map { "\($0.name) (\($0.id.prefix(8)))" }
            var t = TextTable([""] + names, rightAligned: Set(1...c.runs.count))
            for k in c.differingParams { t.add(["param " + k] + c.runs.map { $0.params[k] ?? "-" }) }
            for m in c.metrics {
                t.add(
                    [m]
                        + c.runs.indices.map { i in
                            MetricText.format(c.runs[i].metrics[m]) + (c.best[m]?.contains(i) == true ? " *" : "")
                        })
            }
            return t.render() + "* best per metric\n"
        }
    }
}
