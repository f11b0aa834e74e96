import ArgumentParser
import FeatureCore
import FsmlCore
import OfflineStorage
import PointInTime

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a point-in-time correct training set from the offline store.",
        discussion: """
            Without --spine, every example event of the label definition in [--start, --end) becomes \
            a row with its label; examples whose label is not settled yet are left out and counted. With --spine, \
            each row of the spine (entity keys and a timestamp, CSV or Parquet) gets the features. Every feature is \
            computed as of the row's time by the same engine the server uses: from events known before that time \
            (--event-time-only: every admitted event before it), missing (null) when the entity is unknown or \
            expired. Writes NAME.manifest.json beside the dataset.
            """
    )

    @Option(help: "The dataset to write (.parquet or .csv).") var out: String
    @Option(help: "Earliest example time, ISO-8601 UTC.") var start: String?
    @Option(help: "End of the example times (exclusive), ISO-8601 UTC.") var end: String?
    @Option(help: "Compute features for the keys and times in this file instead of labelled examples.") var spine:
        String?
    @Option(help: "The spine's timestamp column (default: event_timestamp, timestamp or the event time field).")
    var timeColumn: String?
    @Flag(help: "Use every admitted event before a row's time, not only those known by then.") var eventTimeOnly = false
    @Option(name: .customLong("format"), help: "parquet or csv (default: from --out).") var dataFormat: DatasetFormat?
    @Option(
        help: """
            The offline store directory (default: stores.offline in fsml.yaml); a consumer group's directory of \
            partition-N stores (`fsml stream --shards`) is read as one.
            """)
    var offline: String?
    @Option(
        help: ArgumentHelp(
            "Memory a labelled build may hold, in MiB: beyond it, the examples are built in entity-hash partitions, one at a time.",
            valueName: "MiB"))
    var memoryBudget = 2048
    @Option(help: "Build labelled examples in this many entity-hash partitions (default: from --memory-budget).")
    var partitions: Int?
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if let partitions, partitions < 1 { throw ValidationError("--partitions must be at least 1") }
        if memoryBudget < 1 { throw ValidationError("--memory-budget must be at least 1 MiB") }
    }

    func run() throws {
        let registry = try global.loadRegistry()
        let store = OfflineStore(
            root: offline ?? ProjectPaths.resolve(registry.stores.offline, config: global.configPath))
        var options = BuildOptions()
        options.start = try start.map { try parseTime($0, "--start") }
        options.end = try end.map { try parseTime($0, "--end") }
        options.eventTimeOnly = eventTimeOnly
        options.partitions = partitions
        options.memoryBudget = memoryBudget << 20
        let format = dataFormat ?? (out.hasSuffix(".csv") ? .csv : .parquet)
        let built = try DatasetBuild.run(
            registry: registry, store: store, options: options, out: out, format: format, spine: spine,
            timeColumn: timeColumn)
        let report = built.report
        let seconds = built.seconds
        let manifestPath = built.manifestPath
        let kind = spine == nil ? "examples" : "spine"
        var table = TextTable(["BUILT \(out)", "VALUE"], rightAligned: [1])
        table.add(["rows", Progress.count(report.rows)])
        if kind == "examples" {
            table.add(["positive labels", Progress.count(report.positives)])
            table.add([
                "label rate", report.rows > 0 ? Progress.fixed(Double(report.positives) / Double(report.rows), 4) : "-",
            ])
            table.add(["immature examples left out", Progress.count(report.immature)])
        }
        table.add(["features", "\(report.features.count)"])
        table.add(["events replayed", Progress.count(report.eventsReplayed)])
        if report.partitions > 1 { table.add(["partitions (--memory-budget)", "\(report.partitions)"]) }
        table.add(["seconds", Progress.fixed(seconds, 2)])
        table.add(["peak RSS MiB", "\(peakRSSBytes() / 1_048_576)"])
        table.add(["manifest", manifestPath])
        StandardOutput.write(table.render())
    }

    private func parseTime(_ text: String, _ option: String) throws -> Micros {
        switch Timestamp.parseDateOrTime(text) {
        case .success(let t): return t
        case .failure(let e): throw ValidationError("\(option): \(e)")
        }
    }
}

extension DatasetFormat: ExpressibleByArgument {}

/// Builds a dataset and writes its manifest: what `fsml build` and `fsml train --experiment` share.
enum DatasetBuild {
    struct Built {
        var report: BuildReport
        var seconds: Double
        var manifestPath: String
    }

    static func run(
        registry: FeatureRegistry, store: OfflineStore, options: BuildOptions, out: String, format: DatasetFormat,
        spine: String? = nil, timeColumn: String? = nil
    ) throws -> Built {
        guard try !store.files().isEmpty else {
            throw CLIError("\(store.root) holds no events; run `fsml ingest` or `fsml stream` first")
        }
        let builder = DatasetBuilder(registry: registry, store: store, options: options)
        let progress = Progress("build")
        builder.progress = progress
        let started = monotonicNanos()
        let report: BuildReport
        let columns: [String]
        let timeColumnName: String
        let kind: String
        let sha256: String?
        if let spine {
            let rows = try Spine.load(path: spine, registry: registry, timeColumn: timeColumn)
            let outputColumns = rows.columns + builder.featureColumns
            let writer = try DatasetWriter(path: out, format: format, columns: outputColumns)
            report = try builder.buildSpine(rows, into: writer)
            try writer.close()
            sha256 = writer.sha256
            columns = outputColumns.map(\.name)
            timeColumnName = rows.columns[rows.timeColumn].name
            kind = "spine"
        } else {
            let writer = try DatasetWriter(path: out, format: format, columns: builder.exampleColumns)
            report = try builder.buildExamples(into: writer)
            try writer.close()
            sha256 = writer.sha256
            columns = builder.exampleColumns.map(\.name)
            timeColumnName = registry.schema.timeFieldName
            kind = "examples"
        }
        let seconds = Double(monotonicNanos() - started) / 1e9
        progress.finish(report.eventsReplayed, detail: "\(Progress.count(report.rows)) rows")
        let manifestPath = DatasetManifest.path(forDataset: out)
        let manifest = DatasetManifest.json(
            registry: registry, report: report, options: options, datasetPath: out, format: format, kind: kind,
            columns: columns, timeColumn: timeColumnName, storeRoot: store.root, seconds: seconds, sha256: sha256)
        try FileSystem.writeAtomically(JSONText.render(manifest) + "\n", to: manifestPath)
        return Built(report: report, seconds: seconds, manifestPath: manifestPath)
    }
}
