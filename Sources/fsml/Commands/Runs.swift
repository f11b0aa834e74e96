import ArgumentParser
import Foundation
import FsmlCore
import Tracking

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, show, promote, delete and restore tracked runs.",
        discussion: """
            Runs live in MLflow's file-store layout; MLflow reads them with \
            MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri experiments. \
            A RUN is a run id, an id prefix of at least 4 characters, or a run name.
            """,
        subcommands: [RunsList.self, RunsShow.self, RunsPromote.self, RunsDelete.self, RunsRestore.self]
    )
}

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
                    ] + metricNames.map { RunsOutput.number(r.metrics[$0]) }
                        + [(aliasesOf[r.id] ?? []).sorted().joined(separator: ",")])
            }
            StandardOutput.write(table.render())
            StandardError.line("\(runs.count) run\(runs.count == 1 ? "" : "s") in \(store.root)")
        }
    }
}

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
                metrics.add([k, RunsOutput.number(r.metrics[k])])
            }
            var tags = TextTable(["TAG", "VALUE"])
            for k in r.tags.keys.sorted() where !k.hasPrefix("fsml.feature_hash.") { tags.add([k, r.tags[k]!]) }
            StandardOutput.write(params.render() + "\n" + metrics.render() + "\n" + tags.render() + "\n")
            StandardOutput.write("artifacts:\n" + artifacts.map { "  \($0)\n" }.joined())
        }
    }
}

struct RunsPromote: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Point an alias of the run's experiment at the run (what `fsml serve` follows).")

    @Argument(help: ArgumentHelp("The run.", valueName: "run")) var reference: String
    @Option(help: "The alias.") var alias: String = "production"
    @Option(help: "Look only in this experiment.") var experiment: String?
    @Option(
        help: """
            Also register the run's MLflow model as a version of this model in MLflow's registry (the \
            tracking folder's models/, which MLflow's client reads) and point the alias at it: \
            models:/NAME@ALIAS then loads it in mlflow.pyfunc and `mlflow models serve`.
            """) var registeredModel: String?
    @OptionGroup var tracking: TrackingOptions

    func run() throws {
        let store = tracking.store
        let r = try store.findRun(reference, experiment: experiment)
        let registry = ModelRegistry(store: store)
        if let name = registeredModel { try registry.check(r, name: name, alias: alias) }
        // A model that fails its checksum or does not load is never promoted (a server would refuse it).
        let (e, previous) = try store.promote(r, alias: alias)
        StandardOutput.write(
            "\(alias) → run \(r.id) (\(r.name)) in experiment '\(e.name)'"
                + (previous.map { $0 == r.id ? " (unchanged)" : " (was \($0.prefix(8)))" } ?? "") + "\n")
        if let name = registeredModel {
            let (version, created) = try registry.register(r, name: name, alias: alias)
            StandardOutput.write(
                "registered model '\(name)' version \(version.version)\(created ? "" : " (already registered)"), "
                    + "alias \(alias) → version \(version.version): models:/\(name)@\(alias)\n")
        }
    }
}

struct RunsDelete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Move a run to the trash folder (restore it with `fsml runs restore`).")

    @Argument(help: ArgumentHelp("The run.", valueName: "run")) var reference: String
    @Option(help: "Look only in this experiment.") var experiment: String?
    @OptionGroup var tracking: TrackingOptions

    func run() throws {
        let store = tracking.store
        let r = try store.findRun(reference, experiment: experiment)
        let e = try store.experiment(id: r.meta.experimentID)
        if let alias = store.aliases(e).first(where: { $0.value == r.id })?.key {
            throw CLIError("run \(r.id) is the experiment's '\(alias)'; promote another run first")
        }
        try store.delete(r)
        StandardOutput.write("deleted run \(r.id) (\(r.name)); restore it with `fsml runs restore \(r.id)`\n")
    }
}

struct RunsRestore: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "Bring a deleted run back.")

    @Argument(help: ArgumentHelp("The run id.", valueName: "run")) var reference: String
    @OptionGroup var tracking: TrackingOptions

    func run() throws {
        let r = try tracking.store.restore(runID: reference)
        StandardOutput.write("restored run \(r.id) (\(r.name))\n")
    }
}

enum RunsOutput {
    static func json(_ r: RunRecord, aliases: [String]) -> JSONValue {
        .object([
            ("run_id", .string(r.id)), ("run_name", .string(r.name)), ("experiment_id", .string(r.meta.experimentID)),
            ("experiment", .string(r.experimentName)), ("status", .string(r.meta.status.name)),
            ("lifecycle_stage", .string(r.meta.lifecycleStage)), ("start_time", .int(Int(r.meta.startTime))),
            ("end_time", r.meta.endTime.map { .int(Int($0)) } ?? .null),
            ("aliases", .array(aliases.sorted().map { .string($0) })),
            ("params", .object(r.params.keys.sorted().map { ($0, .string(r.params[$0]!)) })),
            ("metrics", .object(r.metrics.keys.sorted().map { ($0, .number(r.metrics[$0]!)) })),
            ("tags", .object(r.tags.keys.sorted().map { ($0, .string(r.tags[$0]!)) })),
            ("directory", .string(r.directory)),
        ])
    }

    static func time(_ ms: Int64) -> String {
        String(Timestamp.format(ms * 1000).prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    static func duration(_ r: RunRecord) -> String {
        guard let end = r.meta.endTime else { return r.meta.status == .running ? "running" : "-" }
        return DurationText.human(seconds: Double(end - r.meta.startTime) / 1000)
    }

    static func number(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "-" }
        return x == x.rounded() && abs(x) < 1e9 ? String(Int(x)) : Progress.fixed(x, 4)
    }

    static func artifacts(_ dir: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        var files: [String] = []
        while let p = e.nextObject() as? String {
            if !FileSystem.isDirectory(dir + "/" + p) { files.append(p) }
        }
        return files.sorted()
    }
}
